"""A kernel spec manager that serves envs' kernelspecs from one cached index.

Jupyter's own :class:`~jupyter_client.kernelspec.KernelSpecManager` lists every
kernels dir and reads every ``kernel.json`` on each ``GET api/kernelspecs``, and
jupyter_server then lists each spec's directory for its logos: with 300 envs
that is well over a thousand file operations a request. This subclass, which
the server extension puts in place of the default one, reads our kernelspecs
from the kernels dir's index (:mod:`..core.kernelindex`), rewritten at every
commit and stat'ed once a request, and keeps the other kernelspecs (the
server's own Python, an administrator's) read once until their file changes. A
CLI's or a kernel's new env shows up at the next request, without a restart.
The listing gives of our specs what a front end reads (argv, names, language,
metadata); the variables each starts with are in ``GET api/kernelspecs/<name>``
and used at its start, as Jupyter's own manager gives them.

Each of our specs says in ``metadata.userpkg.launcher`` whether JupyterLab's
launcher shows it: the envs the user pinned and the few used or made most
recently (``launcher_recent``). The rest stay in the kernel picker and the panel.

``GET api/kernelspecs`` itself is served by :class:`KernelSpecsHandler`: the JSON
jupyter_server would build (the same bytes), encoded once and sent again while the
manager's models are the same objects (none of the index, the launcher file, the
other kernelspecs nor the default kernel changed), with an ETag a browser's
``If-None-Match`` gets a 304 for. At 300 envs the listing is some 110 KB, whose
encoding and hashing each request had cost more than reading the index.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from jupyter_client.kernelspec import (
    NATIVE_KERNEL_NAME,
    KernelSpec,
    KernelSpecManager,
    _list_kernels_in,
)
from jupyter_server.auth.decorator import authorized
from jupyter_server.services.kernelspecs.handlers import MainKernelSpecHandler
from jupyter_server.utils import url_path_join
from tornado import web
from traitlets import Integer, Unicode

from ..core import kernelindex
from ..core.kernels import default_kernels_dir, kernel_name

#: Other kernelspecs' resource files jupyter_server's own listing reports.
RESOURCES = ("kernel.js", "kernel.css")


class UserPkgKernelSpecManager(KernelSpecManager):
    """Jupyter's kernel spec manager, with envs' kernelspecs read from one index."""

    launcher_recent = Integer(
        6,
        help="How many envs, most recently used or made, JupyterLab's launcher shows "
        "besides the pinned ones (every env stays in the kernel picker and the panel).",
    ).tag(config=True)

    userpkg_kernels_dir = Unicode(
        "", help="The kernels dir of the envs' kernelspecs (set by the server extension)."
    )
    base_url = Unicode("/", help="The server's base URL, for resource links (set likewise).")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._dirs: dict[str, tuple[int, dict[str, str]]] = {}
        self._ours: tuple[Any, dict[str, dict[str, Any]]] = (None, {})
        self._models: dict[str, tuple[Any, dict[str, Any]]] = {}
        self._specs: dict[str, KernelSpec] = {}
        self._listing: tuple[Any, dict[str, Any], list[tuple[str, Any]], bytes, str] | None = None

    @property
    def kernels_path(self) -> Path:
        return Path(self.userpkg_kernels_dir) if self.userpkg_kernels_dir else default_kernels_dir()

    # ------------------------------------------------------------- ours

    def ours(self) -> dict[str, dict[str, Any]]:
        """Our kernelspec name -> the REST model, read again when the index changed."""
        path = self.kernels_path
        key = kernelindex.stamp(path)
        if key is not None and self._ours[0] == key:
            return self._ours[1]
        index = kernelindex.read(path)
        self._specs = {}
        pinned, used = kernelindex.launcher(path)
        shown = self._launcher(index, pinned, used)
        models = {}
        for name, item in index.items():
            spec = self.kernel_spec_class(resource_dir=str(path / name), **item["spec"])
            meta = dict(spec.metadata)
            userpkg = dict(meta.get("userpkg") or {})
            base = kernel_name(str(userpkg.get("env", "")))
            meta["userpkg"] = {
                "env": userpkg.get("env"),
                "launcher": name in shown,
                "pinned": base in pinned,
            }
            if "kernel" in userpkg:
                meta["userpkg"]["kernel"] = userpkg["kernel"]
            # What a front end reads of a spec; the variables it starts with (paths, a few
            # hundred bytes an env) are in GET api/kernelspecs/<name> and at its start.
            lean = {
                "argv": spec.argv,
                "display_name": spec.display_name,
                "language": spec.language,
                "interrupt_mode": spec.interrupt_mode,
                "metadata": meta,
            }
            resources = {
                os.path.splitext(f)[0]: url_path_join(self.base_url, "kernelspecs", name, f)
                for f in item.get("resources", ())
            }
            models[name] = {"name": name, "spec": lean, "resources": resources}
            self._specs[name] = spec
        self._ours = (kernelindex.stamp(path), models)
        return models

    def _launcher(
        self, index: dict[str, dict[str, Any]], pinned: set[str], used: dict[str, float]
    ) -> set[str]:
        """The kernelspecs JupyterLab's launcher shows: pinned envs', and those of the
        ``launcher_recent`` envs used (a kernel started) or made most recently."""
        latest: dict[str, float] = {}
        for item in index.values():
            base = kernel_name(str(item.get("env", "")))
            when = max(float(item.get("made") or 0), used.get(base, 0.0))
            latest[base] = max(latest.get(base, 0.0), when)
        recent = sorted(latest, key=lambda b: -latest[b])[: max(self.launcher_recent, 0)]
        keep = pinned | set(recent)
        return {n for n, item in index.items() if kernel_name(str(item.get("env", ""))) in keep}

    # ------------------------------------------------------- the others

    def _others(self) -> dict[str, str]:
        """Kernelspecs of the other kernels dirs (each listed again when it changed)."""
        ours = self.ours()
        found: dict[str, str] = {}
        for directory in self.kernel_dirs:
            try:
                mtime = os.stat(directory).st_mtime_ns
            except OSError:
                continue
            cached = self._dirs.get(directory)
            if cached is None or cached[0] != mtime:
                cached = (mtime, _list_kernels_in(directory))
                self._dirs[directory] = cached
            for name, resource_dir in cached[1].items():
                if name not in found and name not in ours:
                    found[name] = resource_dir
        if self.ensure_native_kernel and NATIVE_KERNEL_NAME not in found:
            try:
                from ipykernel.kernelspec import RESOURCES as NATIVE

                found[NATIVE_KERNEL_NAME] = NATIVE
            except ImportError:
                pass
        return found

    def _allowed(self, names: Any) -> list[str]:
        allowed = self.allowed_kernelspecs
        return [n for n in names if not allowed or n in allowed]

    def find_kernel_specs(self) -> dict[str, str]:
        path = self.kernels_path
        found = {name: str(path / name) for name in self.ours()}
        found.update(self._others())
        return {n: found[n] for n in self._allowed(found)}

    def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
        name = kernel_name.lower()
        if name not in self.ours() or not self._allowed([name]):
            return super().get_kernel_spec(kernel_name)
        spec = self._specs[name]  # a copy: a caller may change what it is given
        return self.kernel_spec_class(resource_dir=spec.resource_dir, **spec.to_dict())

    def get_all_specs(self) -> dict[str, Any]:
        """name -> the REST model (jupyter_server then reads nothing more)."""
        return self._merged(*self._parts())

    def _parts(self) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
        """Our models (one dict, kept while the index is unchanged) and the others'."""
        ours = self.ours()
        others: dict[str, dict[str, Any]] = {}
        for name, resource_dir in self._others().items():
            model = self._other_model(name, resource_dir)
            if model is not None:
                others[name] = model
        return ours, others

    def _merged(self, ours: dict[str, Any], others: dict[str, Any]) -> dict[str, Any]:
        out = {**others, **ours}
        return {n: out[n] for n in self._allowed(sorted(out))}

    def listing(self, default: str) -> tuple[bytes, str]:
        """``GET api/kernelspecs``'s body as jupyter_server encodes it, and its ETag; made
        again only when a model changed (each is kept, as the same object, until its file
        does: ours as one dict while the index's stamp holds, another spec's while its
        kernel.json does), or the default kernel, or the allowed kernelspecs."""
        ours, others = self._parts()
        allowed = tuple(sorted(self.allowed_kernelspecs or ()))
        held = self._listing
        if (
            held is not None
            and held[0] == (default, allowed)
            and held[1] is ours
            and len(held[2]) == len(others)
            and all(
                a == b and m is n for (a, m), (b, n) in zip(held[2], others.items(), strict=True)
            )
        ):
            return held[3], held[4]
        specs = self._merged(ours, others)
        body = json.dumps({"default": default, "kernelspecs": specs}).encode()
        etag = f'"{hashlib.sha1(body, usedforsecurity=False).hexdigest()}"'
        # Holding the models keeps their ids theirs while they are compared by identity.
        self._listing = ((default, allowed), ours, list(others.items()), body, etag)
        return body, etag

    def _other_model(self, name: str, resource_dir: str) -> dict[str, Any] | None:
        """Another kernelspec's model, read again when its kernel.json changed."""
        try:
            info = os.stat(os.path.join(resource_dir, "kernel.json"))
            key: Any = (resource_dir, info.st_mtime_ns, info.st_size)
        except OSError:
            key = (resource_dir, None)  # the native kernel may have no file: read it
        cached = self._models.get(name)
        if cached is not None and cached[0] == key:
            return cached[1]
        try:
            spec = super().get_kernel_spec(name)
        except Exception:  # as jupyter_client's own listing: a broken spec is left out
            self.log.warning("Error loading kernelspec %r", name, exc_info=True)
            return None
        resources = {}
        for entry in sorted(os.listdir(spec.resource_dir)):
            if entry in RESOURCES or entry.startswith("logo-"):
                label = entry if entry in RESOURCES else os.path.splitext(entry)[0]
                resources[label] = url_path_join(self.base_url, "kernelspecs", name, entry)
        model = {"name": name, "spec": spec.to_dict(), "resources": resources}
        self._models[name] = (key, model)
        return model


class KernelSpecsHandler(MainKernelSpecHandler):
    """``GET api/kernelspecs`` from the manager's kept listing (:meth:`~UserPkgKernelSpecManager.
    listing`); jupyter_server's own handler where another manager is in place."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        ksm = self.kernel_spec_manager
        if not isinstance(ksm, UserPkgKernelSpecManager):
            await super().get()  # type: ignore[misc]
            return
        body, etag = ksm.listing(self.kernel_manager.default_kernel_name)
        self.set_header("Content-Type", "application/json")
        self.set_header("Etag", etag)
        if self.check_etag_header():
            self.set_status(304)
            self.finish()
            return
        self.finish(body)
