"""The ``.plug`` file: an Errbot plugin's manifest, read as Errbot reads it.

    [Core]
    Name = Hello
    Module = hello
    DependsOn = Other        ; optional

    [Documentation]
    Description = says hello

    [Python]
    Version = 3              ; optional

    [Errbot]
    Min = 6.0.0              ; optional
    Max = 9.9.9              ; optional

``Name`` and ``Module`` are required; ``Module`` names ``Module.py`` (or
the package ``Module/``) next to the ``.plug`` file.
"""

import importlib.util
import inspect
import sys
from configparser import ConfigParser, Error as ConfigParserError
from dataclasses import dataclass, field
from pathlib import Path


def version2tuple(version):
    """'6.1.7' -> (6, 1, 7); a suffix such as '-beta' sorts before the release."""
    main, _, suffix = version.partition("-")
    parts = main.split(".")
    if len(parts) != 3:
        raise ValueError("version %r is not in the form X.Y.Z" % version)
    nums = tuple(int(p) for p in parts)
    return nums + ((0,) if suffix else (1,))


@dataclass
class PluginInfo:
    name: str
    module: str
    doc: str
    core: bool
    python_version: tuple
    errbot_minversion: tuple
    errbot_maxversion: tuple
    dependencies: list = field(default_factory=list)
    location: Path = None

    @staticmethod
    def load(plugfile_path):
        plugfile_path = Path(plugfile_path)
        with plugfile_path.open(encoding="utf-8") as f:
            return PluginInfo.load_file(f, plugfile_path)

    @staticmethod
    def load_file(plugfile, location):
        cp = ConfigParser()
        cp.read_file(plugfile)
        info = PluginInfo.parse(cp)
        info.location = Path(location)
        return info

    @staticmethod
    def parse(config):
        """Read a ConfigParser; raise configparser.Error naming what is wrong."""
        name = config.get("Core", "Name")
        module = config.get("Core", "Module")
        core = config.get("Core", "Core", fallback="false").lower() == "true"
        doc = config.get("Documentation", "Description", fallback=None)
        pyver = config.get("Python", "Version", fallback=None)
        if pyver:
            if pyver in ("2+", "3"):
                pyver = (3, 0, 0)
            elif pyver == "2":
                pyver = (2, 0, 0)
            else:
                try:
                    pyver = version2tuple(pyver)[:3]
                except ValueError as e:
                    raise ConfigParserError("invalid Python version %r: %s" % (pyver, e))
        versions = []
        for key in ("Min", "Max"):
            v = config.get("Errbot", key, fallback=None)
            if v:
                try:
                    v = version2tuple(v)
                except ValueError as e:
                    raise ConfigParserError("invalid Errbot %s version %r: %s" % (key.lower(), v, e))
            versions.append(v)
        deps = config.get("Core", "DependsOn", fallback=None)
        deps = [d.strip() for d in deps.split(",") if d.strip()] if deps else []
        return PluginInfo(name, module, doc, core, pyver, versions[0], versions[1], deps)

    def load_plugin_classes(self, base_module_name, baseclass):
        """Import the module and return [(name, class)] of its BotPlugin subclasses."""
        folder = self.location.parent
        path = folder / (self.module + ".py")
        search = None
        if not path.exists() and (folder / self.module / "__init__.py").exists():
            path = folder / self.module / "__init__.py"
            search = [str(folder / self.module)]
        module_name = base_module_name + "." + self.module
        spec = importlib.util.spec_from_file_location(module_name, path,
                                                      submodule_search_locations=search)
        if spec is None:
            raise ImportError("no module %s.py next to %s" % (self.module, self.location))
        mod = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = mod
        if str(folder) not in sys.path:
            sys.path.insert(0, str(folder))  # as Errbot: a plugin may import its siblings
        spec.loader.exec_module(mod)

        def is_plugin(m):
            return inspect.isclass(m) and issubclass(m, baseclass) and m is not baseclass
        found = inspect.getmembers(mod, is_plugin)
        # A class defined in the module comes before one it imported.
        found.sort(key=lambda nc: nc[1].__module__ != mod.__name__)
        return found
