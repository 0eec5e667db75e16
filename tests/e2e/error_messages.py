"""The error messages canaoc's sources can print: docs/troubleshooting.md
must list every one (tests/e2e/test_cli.py checks it).

Every call that reports an error with a string literal (error(...),
fail(...), nodeError(...), createStringError(..., "..."), emitError/
emitOpError, notifyMatchFailure) contributes its literal's leading text up
to the first format directive or concatenation: the key a user sees at
the start of the message (after canaoc: error: and a node prefix)."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ["compiler/*.cpp", "compiler/onnx/*.cpp", "compiler/onnx/*.h",
           "codegen/*.cpp", "passes/*.cpp"]
CALL = re.compile(r'\b(error|fail|nodeError|createStringError|emitError|'
                  r'emitOpError)\s*\((?:[^;"()]*(?:\([^()]*\))?[^;"()]*?,\s*)?'
                  r'\s*"((?:[^"\\]|\\.)*)"', re.S)


def message_keys():
    """{key: [file:line, ...]} for every error message literal."""
    keys = {}
    for pattern in SOURCES:
        for path in sorted(ROOT.glob(pattern)):
            text = path.read_text()
            for m in CALL.finditer(text):
                key = re.split(r"%|\\n", m.group(2))[0].strip().rstrip("'(:")
                key = key.strip()
                # Messages of the generated runtime are built from pieces in
                # the emitter and start with code, not text: not canaoc's.
                if len(key) < 4 or not re.match(r"[-A-Za-z]", key):
                    continue
                key = key.replace('\\"', '"')
                line = text.count("\n", 0, m.start()) + 1
                keys.setdefault(key, []).append(
                    f"{path.relative_to(ROOT)}:{line}")
    return keys


if __name__ == "__main__":
    for key, where in sorted(message_keys().items()):
        print(f"{where[0]:40} {key}")
