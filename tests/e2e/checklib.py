"""The check/report helpers the end-to-end scripts share: one line per
check ('PASS name: detail' / 'FAIL ...'), then 'N passed, M failed'."""
import subprocess

results = []


def check(name, ok, detail=""):
    results.append(bool(ok))
    print(f"{'PASS' if ok else 'FAIL'} {name}" + (f": {detail}" if detail else ""),
          flush=True)
    return ok


def run(cmd, **kw):
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True,
                          **kw)


def summary():
    """Prints the counts; the exit status (0 only if all passed)."""
    passed = sum(results)
    print(f"{passed} passed, {len(results) - passed} failed")
    return 0 if results and all(results) else 1
