"""The app's real worker signals, emitted tens of thousands of times, end in a clean exit.

PySide6-Essentials 6.12.0 drops a reference to True on every Signal.emit() under Python 3.11, so a
process that emits a few hundred signals aborts with "Fatal Python error: bool_dealloc" (exit 134),
usually at exit or in the next garbage collection. The test suite alone never emits that many, so
this test does it in a subprocess of its own, the way the window does: a task on Qt's thread pool
emitting progress and partial answers, delivered to the main thread's event loop.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

EMITS = 50_000

SCRIPT = textwrap.dedent(
    f"""
    import gc
    from PySide6.QtCore import QCoreApplication, QThreadPool
    from reading_assistant.gui.tasks import Task

    class Emitter(Task):
        def work(self):
            for done in range({EMITS // 2}):
                self.signals.progress.emit(self.job, done, {EMITS // 2})
                if done % 10 == 0:
                    self.signals.partial.emit(self.job, [done])
            return "read"

    app = QCoreApplication([])
    received = {{"progress": 0, "partial": 0, "finished": None}}

    def on_progress(job, done, total):
        received["progress"] += 1

    def on_partial(job, answers):
        received["partial"] += 1

    def on_finished(job, result):
        received["finished"] = result
        app.quit()

    task = Emitter(7)
    task.signals.progress.connect(on_progress)
    task.signals.partial.connect(on_partial)
    task.signals.finished.connect(on_finished)
    QThreadPool.globalInstance().start(task)
    app.exec()
    QThreadPool.globalInstance().waitForDone()

    # The same signals emitted directly in the main thread, as a finished job does.
    for done in range({EMITS // 2}):
        task.signals.progress.emit(task.job, done, {EMITS // 2})
    gc.collect()
    print(received["progress"], received["partial"], received["finished"])
    """
)


def test_fifty_thousand_signals_end_in_a_clean_exit():
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=300, env=env, check=False
    )
    assert result.returncode == 0, f"exit {result.returncode}: {result.stderr[-2000:]}"
    assert result.stdout.split() == [str(EMITS), str(EMITS // 20), "read"]
    assert "Fatal Python error" not in result.stderr
