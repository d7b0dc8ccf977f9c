import sys

from reading_assistant.cli import main

sys.exit(main())
