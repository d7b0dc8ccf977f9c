; Inno Setup 6 script: a per-user installer for the frozen Reading Assistant (no administrator rights).
;
;   python packaging\build.py
;   python packaging\release.py          (prints version=0.2.0 and windows_version=0.2.0.0)
;   iscc /DAppVersion=0.2.0 /DWindowsVersion=0.2.0.0 packaging\windows\reading-assistant.iss
;
; Takes dist\reading-assistant\ (both executables: reading-assistant.exe for the command line,
; reading-assistant-gui.exe for the window) and writes dist\reading-assistant-<version>-windows-x64-setup.exe.
; "Open with" is offered for the document types the app reads, without ever becoming their default:
; the extensions gain only an OpenWithProgids value, their own default value is never written, and
; the uninstaller removes every key and value it added (uninsdeletevalue / uninsdeletekey).
; The install folder goes on the user's PATH (a task, on by default), so `reading-assistant` works in
; any new terminal; the uninstaller takes it off again, and asks whether to remove the reader's data.
; Signed when compiled with /DSign and a sign tool named "release" (/Srelease=...): the workflow
; does that when the repository has a certificate.

#ifndef AppVersion
  #define AppVersion "0.0.0"
  #define WindowsVersion "0.0.0.0"
#endif
; Windows wants four numbers here, which a pre-release version is not: packaging\release.py makes them.
#ifndef WindowsVersion
  #error Give /DWindowsVersion=N.N.N.N with /DAppVersion: python packaging\release.py prints it
#endif
#define AppName "Reading Assistant"
#define ExeName "reading-assistant-gui.exe"
#define ProgId "ReadingAssistant.Document"
#define SourceDir "..\..\dist\reading-assistant"

[Setup]
AppId={{6F1D3A52-8E4B-4C1E-9B7A-2D5C0E9F4A31}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher=Reading Assistant
VersionInfoVersion={#WindowsVersion}
VersionInfoTextVersion={#AppVersion}
VersionInfoProductTextVersion={#AppVersion}
DefaultDirName={autopf}\Reading Assistant
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
; Per user: installs under %LOCALAPPDATA%\Programs, writes only HKCU, never asks for elevation.
PrivilegesRequired=lowest
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir=..\..\dist
OutputBaseFilename=reading-assistant-{#AppVersion}-windows-x64-setup
SetupIconFile=..\..\resources\icons\reading-assistant.ico
UninstallDisplayIcon={app}\{#ExeName}
UninstallDisplayName={#AppName}
LicenseFile=..\..\LICENSE
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
ChangesAssociations=yes
; The PATH entry reaches new terminals without signing out.
ChangesEnvironment=yes
#ifdef Sign
SignTool=release
#endif

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Files]
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#ExeName}"; WorkingDir: "{userdocs}"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#ExeName}"; WorkingDir: "{userdocs}"; Tasks: desktopicon

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked
Name: "addtopath"; Description: "Add the reading-assistant command to my PATH"; GroupDescription: "Command line:"

[Registry]
; The ProgID that "Open with" runs: the windowed executable with the file.
Root: HKCU; Subkey: "Software\Classes\{#ProgId}"; ValueType: string; ValueName: ""; ValueData: "Document for {#AppName}"; Flags: uninsdeletekey
Root: HKCU; Subkey: "Software\Classes\{#ProgId}\DefaultIcon"; ValueType: string; ValueName: ""; ValueData: """{app}\{#ExeName}"",0"
Root: HKCU; Subkey: "Software\Classes\{#ProgId}\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\{#ExeName}"" ""%1"""
; The application itself, with the types it supports (shown in "Open with" and Default Apps, never chosen for you).
Root: HKCU; Subkey: "Software\Classes\Applications\{#ExeName}"; ValueType: string; ValueName: "FriendlyAppName"; ValueData: "{#AppName}"; Flags: uninsdeletekey
Root: HKCU; Subkey: "Software\Classes\Applications\{#ExeName}\DefaultIcon"; ValueType: string; ValueName: ""; ValueData: """{app}\{#ExeName}"",0"
Root: HKCU; Subkey: "Software\Classes\Applications\{#ExeName}\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\{#ExeName}"" ""%1"""
Root: HKCU; Subkey: "Software\Classes\Applications\{#ExeName}\SupportedTypes"; ValueType: string; ValueName: ".txt"; ValueData: ""
Root: HKCU; Subkey: "Software\Classes\Applications\{#ExeName}\SupportedTypes"; ValueType: string; ValueName: ".text"; ValueData: ""
Root: HKCU; Subkey: "Software\Classes\Applications\{#ExeName}\SupportedTypes"; ValueType: string; ValueName: ".md"; ValueData: ""
Root: HKCU; Subkey: "Software\Classes\Applications\{#ExeName}\SupportedTypes"; ValueType: string; ValueName: ".markdown"; ValueData: ""
Root: HKCU; Subkey: "Software\Classes\Applications\{#ExeName}\SupportedTypes"; ValueType: string; ValueName: ".html"; ValueData: ""
Root: HKCU; Subkey: "Software\Classes\Applications\{#ExeName}\SupportedTypes"; ValueType: string; ValueName: ".htm"; ValueData: ""
Root: HKCU; Subkey: "Software\Classes\Applications\{#ExeName}\SupportedTypes"; ValueType: string; ValueName: ".xhtml"; ValueData: ""
Root: HKCU; Subkey: "Software\Classes\Applications\{#ExeName}\SupportedTypes"; ValueType: string; ValueName: ".pdf"; ValueData: ""
Root: HKCU; Subkey: "Software\Classes\Applications\{#ExeName}\SupportedTypes"; ValueType: string; ValueName: ".docx"; ValueData: ""
Root: HKCU; Subkey: "Software\Classes\Applications\{#ExeName}\SupportedTypes"; ValueType: string; ValueName: ".epub"; ValueData: ""
Root: HKCU; Subkey: "Software\Classes\Applications\{#ExeName}\SupportedTypes"; ValueType: string; ValueName: ".png"; ValueData: ""
Root: HKCU; Subkey: "Software\Classes\Applications\{#ExeName}\SupportedTypes"; ValueType: string; ValueName: ".jpg"; ValueData: ""
Root: HKCU; Subkey: "Software\Classes\Applications\{#ExeName}\SupportedTypes"; ValueType: string; ValueName: ".jpeg"; ValueData: ""
Root: HKCU; Subkey: "Software\Classes\Applications\{#ExeName}\SupportedTypes"; ValueType: string; ValueName: ".tif"; ValueData: ""
Root: HKCU; Subkey: "Software\Classes\Applications\{#ExeName}\SupportedTypes"; ValueType: string; ValueName: ".tiff"; ValueData: ""
; Each extension gains one value naming our ProgID under OpenWithProgids; its default value (which
; application opens it) is never written, and only our value is removed on uninstall.
Root: HKCU; Subkey: "Software\Classes\.txt\OpenWithProgids"; ValueType: string; ValueName: "{#ProgId}"; ValueData: ""; Flags: uninsdeletevalue
Root: HKCU; Subkey: "Software\Classes\.text\OpenWithProgids"; ValueType: string; ValueName: "{#ProgId}"; ValueData: ""; Flags: uninsdeletevalue
Root: HKCU; Subkey: "Software\Classes\.md\OpenWithProgids"; ValueType: string; ValueName: "{#ProgId}"; ValueData: ""; Flags: uninsdeletevalue
Root: HKCU; Subkey: "Software\Classes\.markdown\OpenWithProgids"; ValueType: string; ValueName: "{#ProgId}"; ValueData: ""; Flags: uninsdeletevalue
Root: HKCU; Subkey: "Software\Classes\.html\OpenWithProgids"; ValueType: string; ValueName: "{#ProgId}"; ValueData: ""; Flags: uninsdeletevalue
Root: HKCU; Subkey: "Software\Classes\.htm\OpenWithProgids"; ValueType: string; ValueName: "{#ProgId}"; ValueData: ""; Flags: uninsdeletevalue
Root: HKCU; Subkey: "Software\Classes\.xhtml\OpenWithProgids"; ValueType: string; ValueName: "{#ProgId}"; ValueData: ""; Flags: uninsdeletevalue
Root: HKCU; Subkey: "Software\Classes\.pdf\OpenWithProgids"; ValueType: string; ValueName: "{#ProgId}"; ValueData: ""; Flags: uninsdeletevalue
Root: HKCU; Subkey: "Software\Classes\.docx\OpenWithProgids"; ValueType: string; ValueName: "{#ProgId}"; ValueData: ""; Flags: uninsdeletevalue
Root: HKCU; Subkey: "Software\Classes\.epub\OpenWithProgids"; ValueType: string; ValueName: "{#ProgId}"; ValueData: ""; Flags: uninsdeletevalue
Root: HKCU; Subkey: "Software\Classes\.png\OpenWithProgids"; ValueType: string; ValueName: "{#ProgId}"; ValueData: ""; Flags: uninsdeletevalue
Root: HKCU; Subkey: "Software\Classes\.jpg\OpenWithProgids"; ValueType: string; ValueName: "{#ProgId}"; ValueData: ""; Flags: uninsdeletevalue
Root: HKCU; Subkey: "Software\Classes\.jpeg\OpenWithProgids"; ValueType: string; ValueName: "{#ProgId}"; ValueData: ""; Flags: uninsdeletevalue
Root: HKCU; Subkey: "Software\Classes\.tif\OpenWithProgids"; ValueType: string; ValueName: "{#ProgId}"; ValueData: ""; Flags: uninsdeletevalue
Root: HKCU; Subkey: "Software\Classes\.tiff\OpenWithProgids"; ValueType: string; ValueName: "{#ProgId}"; ValueData: ""; Flags: uninsdeletevalue

[Run]
Filename: "{app}\{#ExeName}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent

[UninstallDelete]
; PyInstaller leaves nothing at run time in {app}. The reader's data is another folder: see below.
Type: dirifempty; Name: "{app}"

[Code]
const
  EnvironmentKey = 'Environment';
  // Where the app keeps settings, history, log, library index and added models (platformdirs'
  // user folders for "reading-assistant" without an author: all under %LOCALAPPDATA%).
  DataFolder = '{localappdata}\reading-assistant';

function SamePath(Entry, Folder: String): Boolean;
begin
  Result := CompareText(RemoveBackslashUnlessRoot(Trim(Entry)), RemoveBackslashUnlessRoot(Folder)) = 0;
end;

// The user's PATH without Folder; Removed tells whether it was there. Every other entry is kept as
// it was, empty ones included.
function PathWithout(Path, Folder: String; var Removed: Boolean): String;
var
  Rest, Entry: String;
  Split: Integer;
  First: Boolean;
begin
  Result := '';
  Removed := False;
  First := True;
  Rest := Path;
  while Rest <> '' do
  begin
    Split := Pos(';', Rest);
    if Split = 0 then
    begin
      Entry := Rest;
      Rest := '';
    end else
    begin
      Entry := Copy(Rest, 1, Split - 1);
      Rest := Copy(Rest, Split + 1, Length(Rest));
    end;
    if SamePath(Entry, Folder) then
      Removed := True
    else
    begin
      if not First then
        Result := Result + ';';
      Result := Result + Entry;
      First := False;
    end;
  end;
end;

procedure AddToPath(Folder: String);
var
  Path: String;
  Present: Boolean;
begin
  if not RegQueryStringValue(HKCU, EnvironmentKey, 'Path', Path) then
    Path := '';
  PathWithout(Path, Folder, Present);
  if Present then
    exit;
  if (Path <> '') and (Path[Length(Path)] <> ';') then
    Path := Path + ';';
  if not RegWriteExpandStringValue(HKCU, EnvironmentKey, 'Path', Path + Folder) then
    SuppressibleMsgBox('Could not add ' + Folder + ' to your PATH; run ' + Folder + '\reading-assistant.exe by its full name.',
      mbInformation, MB_OK, IDOK);
end;

procedure RemoveFromPath(Folder: String);
var
  Path, Kept: String;
  Removed: Boolean;
begin
  if not RegQueryStringValue(HKCU, EnvironmentKey, 'Path', Path) then
    exit;
  Kept := PathWithout(Path, Folder, Removed);
  if Removed then
    RegWriteExpandStringValue(HKCU, EnvironmentKey, 'Path', Kept);
end;

procedure CurStepChanged(CurStep: TSetupStep);
begin
  if (CurStep = ssPostInstall) and WizardIsTaskSelected('addtopath') then
    AddToPath(ExpandConstant('{app}'));
end;

procedure CurUninstallStepChanged(CurUninstallStep: TUninstallStep);
var
  DataPath: String;
begin
  if CurUninstallStep = usUninstall then
    RemoveFromPath(ExpandConstant('{app}'));
  if CurUninstallStep = usPostUninstall then
  begin
    DataPath := ExpandConstant(DataFolder);
    // A silent uninstall keeps the data (the default answer): nothing of the reader's is lost unasked.
    if DirExists(DataPath) and (SuppressibleMsgBox(
        'Also remove your Reading Assistant data?' + #13#10#13#10 +
        'It holds your settings, recent files and question history, pasted texts, the log, the library ' +
        'index and the models you added, in:' + #13#10 + DataPath + #13#10#13#10 +
        'Choose No to keep them for a later install.',
        mbConfirmation, MB_YESNO or MB_DEFBUTTON2, IDNO) = IDYES) then
      if not DelTree(DataPath, True, True, True) then
        SuppressibleMsgBox('Some of your data could not be removed (is Reading Assistant still running?). ' +
          'What is left is in:' + #13#10 + DataPath, mbError, MB_OK, IDOK);
  end;
end;
