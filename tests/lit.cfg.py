# lit configuration for canao: one .mlir file per pass shows the IR before
# and after; importer tests build tiny ONNX models with onnx.helper.
import os
import lit.formats

config.name = "canao"
config.test_format = lit.formats.ShTest(execute_external=True)
config.suffixes = [".mlir", ".test"]
config.excludes = ["Inputs", "e2e", "models", "unit", "CMakeLists.txt",
                   "lit.cfg.py"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.canao_obj_root, "tests")
tools = os.path.join(config.canao_obj_root, "compiler")
config.environment["PATH"] = os.pathsep.join(
    [tools, config.llvm_tools_dir, config.environment.get("PATH", "")])
# Debian's python3-onnx belongs to /usr/bin/python3.
config.substitutions.append(("%python", "/usr/bin/python3"))
config.substitutions.append(
    ("%models", os.path.join(config.test_source_root, "import", "Inputs")))
