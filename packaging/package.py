#!/usr/bin/env python3
"""Packs a built keyrelay binary for the registries, without compiling again.

    package.py wheel --binary B --target T --version V --man-dir D --out DIR
    package.py npm-platform --binary B --target T --version V --out DIR
    package.py npm-main --version V --man-dir D --out DIR
    package.py archive --binary B --target T --version V --man-dir D --completions-dir C --out DIR
    package.py checksums DIR

scripts/package runs these; the release workflow runs scripts/package on
each platform. Only the Python standard library and `npm` are used.
"""

import argparse
import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "packaging" / "package-readme.md"
LICENSE = "MIT OR Apache-2.0"
SUMMARY = (
    "LLM gateway that rotates over several API keys per provider; "
    "runs Claude Code, Codex CLI and Gemini CLI on any provider's model"
)

# Each target keyrelay ships: the npm package holding its binary (with
# npm's os and cpu names) and its wheel's platform tags. A static musl
# binary runs on glibc and musl systems alike, so its wheel carries both
# manylinux and musllinux tags, as uv's and ruff's do.
TARGETS = {
    "x86_64-unknown-linux-musl": {
        "npm": "linux-x64",
        "os": "linux",
        "cpu": "x64",
        "wheel": [
            "manylinux_2_17_x86_64",
            "manylinux2014_x86_64",
            "musllinux_1_1_x86_64",
        ],
    },
    "aarch64-unknown-linux-musl": {
        "npm": "linux-arm64",
        "os": "linux",
        "cpu": "arm64",
        "wheel": [
            "manylinux_2_17_aarch64",
            "manylinux2014_aarch64",
            "musllinux_1_1_aarch64",
        ],
    },
    "x86_64-apple-darwin": {
        "npm": "darwin-x64",
        "os": "darwin",
        "cpu": "x64",
        "wheel": ["macosx_10_12_x86_64"],
    },
    "aarch64-apple-darwin": {
        "npm": "darwin-arm64",
        "os": "darwin",
        "cpu": "arm64",
        "wheel": ["macosx_11_0_arm64"],
    },
    "x86_64-pc-windows-msvc": {
        "npm": "win32-x64",
        "os": "win32",
        "cpu": "x64",
        "wheel": ["win_amd64"],
    },
}

# Fixed file times make the same inputs give the same archives.
EPOCH = (1980, 1, 1, 0, 0, 0)


def repository_url():
    """The source repository, when the release workflow says which it is."""
    repository = os.environ.get("GITHUB_REPOSITORY")
    return f"https://github.com/{repository}" if repository else None


def exe_name(target):
    return "keyrelay.exe" if "windows" in target else "keyrelay"


def target_info(target):
    if target not in TARGETS:
        sys.exit(f"package.py: unknown target {target}; known: {', '.join(TARGETS)}")
    return TARGETS[target]


def record_hash(data):
    digest = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def wheel(args):
    """A wheel whose only content is the binary, installed as a script
    (it lands in the environment's bin/ or Scripts/), and the man pages."""
    info = target_info(args.target)
    version = args.version
    tag = "py3-none-" + ".".join(info["wheel"])
    name = f"keyrelay-{version}-{tag}.whl"
    data = f"keyrelay-{version}.data"
    meta = f"keyrelay-{version}.dist-info"
    readme = README.read_text(encoding="utf-8")
    metadata = (
        "Metadata-Version: 2.1\n"
        "Name: keyrelay\n"
        f"Version: {version}\n"
        f"Summary: {SUMMARY}\n"
        f"License: {LICENSE}\n"
        "Keywords: llm,gateway,api-keys,claude-code,codex,gemini\n"
        "Classifier: Environment :: Console\n"
        "Classifier: Programming Language :: Rust\n"
        "Classifier: Topic :: Internet :: Proxy Servers\n"
        "Requires-Python: >=3.7\n"
        + (f"Project-URL: Repository, {repository_url()}\n" if repository_url() else "")
        + "Description-Content-Type: text/markdown\n"
        "\n" + readme
    )
    wheel_file = (
        "Wheel-Version: 1.0\n"
        "Generator: keyrelay packaging/package.py\n"
        "Root-Is-Purelib: false\n"
        + "".join(f"Tag: py3-none-{platform}\n" for platform in info["wheel"])
    )
    # (path in the wheel, bytes, executable)
    files = [(f"{data}/scripts/{exe_name(args.target)}", Path(args.binary).read_bytes(), True)]
    for page in sorted(Path(args.man_dir).glob("*.1")):
        files.append((f"{data}/data/share/man/man1/{page.name}", page.read_bytes(), False))
    files.append((f"{meta}/METADATA", metadata.encode(), False))
    files.append((f"{meta}/WHEEL", wheel_file.encode(), False))
    record = "".join(f"{path},{record_hash(body)},{len(body)}\n" for path, body, _ in files)
    record += f"{meta}/RECORD,,\n"
    files.append((f"{meta}/RECORD", record.encode(), False))

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out / name, "w", zipfile.ZIP_DEFLATED) as zf:
        for path, body, executable in files:
            entry = zipfile.ZipInfo(path, EPOCH)
            entry.external_attr = (0o100755 if executable else 0o100644) << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(entry, body)
    print(out / name)


def npm_pack(folder, out):
    out.mkdir(parents=True, exist_ok=True)
    npm = shutil.which("npm")
    if not npm:
        sys.exit("package.py: npm is missing; install Node.js (Debian/Ubuntu: apt-get install npm)")
    result = subprocess.run(
        [npm, "pack", "--json", "--pack-destination", str(out.resolve())],
        cwd=folder,
        check=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    packed = json.loads(result.stdout)[0]["filename"]
    print(out / packed)


def npm_platform(args):
    """`@keyrelay/<os>-<cpu>`: the binary in bin/, installed by npm only on
    that os and cpu."""
    info = target_info(args.target)
    with tempfile.TemporaryDirectory() as stage:
        stage = Path(stage)
        (stage / "bin").mkdir()
        binary = stage / "bin" / exe_name(args.target)
        shutil.copyfile(args.binary, binary)
        binary.chmod(0o755)
        manifest = {
            "name": f"@keyrelay/{info['npm']}",
            "version": args.version,
            "description": f"The keyrelay binary for {info['os']} {info['cpu']} (used by the keyrelay package)",
            "license": LICENSE,
            "os": [info["os"]],
            "cpu": [info["cpu"]],
            "files": ["bin"],
            "preferUnplugged": True,
        }
        if repository_url():
            manifest["repository"] = {"type": "git", "url": f"git+{repository_url()}.git"}
        (stage / "package.json").write_text(json.dumps(manifest, indent=2) + "\n")
        shutil.copyfile(README, stage / "README.md")
        npm_pack(stage, Path(args.out))


def npm_main(args):
    """`keyrelay`: the launcher in bin/ and the man page; every platform
    package is an optional dependency at exactly this version. The version
    and the dependencies are set here, over the template's package.json."""
    source = ROOT / "packaging" / "npm" / "keyrelay"
    launcher = (source / "bin" / "keyrelay.js").read_text()
    for info in TARGETS.values():
        if f'"@keyrelay/{info["npm"]}"' not in launcher:
            sys.exit(f"package.py: bin/keyrelay.js does not know @keyrelay/{info['npm']}")
    with tempfile.TemporaryDirectory() as stage:
        stage = Path(stage)
        shutil.copytree(source / "bin", stage / "bin")
        manifest = json.loads((source / "package.json").read_text())
        manifest["version"] = args.version
        if repository_url():
            manifest["repository"] = {"type": "git", "url": f"git+{repository_url()}.git"}
        manifest["optionalDependencies"] = {
            f"@keyrelay/{info['npm']}": args.version for info in TARGETS.values()
        }
        (stage / "package.json").write_text(json.dumps(manifest, indent=2) + "\n")
        (stage / "man").mkdir()
        shutil.copyfile(Path(args.man_dir) / "keyrelay.1", stage / "man" / "keyrelay.1")
        shutil.copyfile(README, stage / "README.md")
        npm_pack(stage, Path(args.out))


def archive(args):
    """keyrelay-V-TARGET.tar.gz (.zip on Windows): the binary, its man pages,
    completions, README and CHANGELOG in one folder, which is also left
    unpacked beside the archive."""
    base = f"keyrelay-{args.version}-{args.target}"
    out = Path(args.out)
    folder = out / base
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "man").mkdir(parents=True)
    binary = folder / exe_name(args.target)
    shutil.copyfile(args.binary, binary)
    binary.chmod(0o755)
    for page in sorted(Path(args.man_dir).glob("*.1")):
        shutil.copyfile(page, folder / "man" / page.name)
    shutil.copytree(args.completions_dir, folder / "completions")
    for doc in ("README.md", "CHANGELOG.md"):
        shutil.copyfile(ROOT / doc, folder / doc)
    paths = sorted(p for p in folder.rglob("*") if p.is_file())
    if "windows" in args.target:
        name = out / f"{base}.zip"
        with zipfile.ZipFile(name, "w", zipfile.ZIP_DEFLATED) as zf:
            for path in paths:
                entry = zipfile.ZipInfo(str(path.relative_to(out).as_posix()), EPOCH)
                entry.external_attr = (path.stat().st_mode & 0o777 | 0o100000) << 16
                entry.compress_type = zipfile.ZIP_DEFLATED
                zf.writestr(entry, path.read_bytes())
    else:
        name = out / f"{base}.tar.gz"

        def normalise(info):
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            info.mtime = 0
            return info

        with tarfile.open(name, "w:gz") as tar:
            for path in paths:
                tar.add(path, arcname=str(path.relative_to(out)), filter=normalise)
    print(name)


def checksums(args):
    """SHA256SUMS over every archive, wheel and npm tarball under DIR, in
    the format `sha256sum -c` reads."""
    out = Path(args.dir)
    lines = []
    for path in sorted([*out.glob("*"), *out.glob("npm/*")]):
        if path.is_file() and path.name.endswith((".tar.gz", ".zip", ".whl", ".tgz")):
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            lines.append(f"{digest}  {path.relative_to(out).as_posix()}\n")
    (out / "SHA256SUMS").write_text("".join(lines))
    print(out / "SHA256SUMS")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    def command(name, handler, *flags):
        sub = commands.add_parser(name)
        for flag in flags:
            sub.add_argument(f"--{flag}", required=True)
        sub.set_defaults(handler=handler)
        return sub

    command("wheel", wheel, "binary", "target", "version", "man-dir", "out")
    command("npm-platform", npm_platform, "binary", "target", "version", "out")
    command("npm-main", npm_main, "version", "man-dir", "out")
    command("archive", archive, "binary", "target", "version", "man-dir", "completions-dir", "out")
    sums = commands.add_parser("checksums")
    sums.add_argument("dir")
    sums.set_defaults(handler=checksums)
    args = parser.parse_args()
    args.handler(args)


if __name__ == "__main__":
    main()
