"""Uploads: limits, names, content checks, safe zip extraction, and atomic rebuilds."""

from __future__ import annotations

import io
import os
import shutil
import stat
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from core import build_dataset, load_dataset, save_dataset
from core.errors import StoreError
from core.store import current, list_versions, read_manifest, rollback
from core.uploads import (
    UploadError,
    UploadLimits,
    build_upload,
    rebuild_store,
    receive,
    safe_name,
)

ARTICLE = (
    b"Turkey and Greece agree to resume talks over maritime borders\n\n"
    b"ANKARA, March 3, 2024 - Turkish Foreign Minister Hakan Fidan met his Greek "
    b"counterpart Giorgos Gerapetritis in Ankara on Sunday. Turkey said the two "
    b"countries would resume talks on the Aegean. Greece welcomed the decision.\n"
)
ELF = b"\x7fELF\x02\x01\x01\x00" + bytes(200)
PE = b"MZ\x90\x00\x03\x00\x00\x00" + bytes(200)


def all_files(root: Path) -> set[Path]:
    return {p for p in root.rglob("*")}


def zip_bytes(members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def reasons(batch) -> dict[str, str]:
    return dict(batch.rejected)


# --- one batch, one folder ---------------------------------------------------------------


def test_each_batch_gets_a_new_folder_not_named_by_the_user(tmp_path: Path) -> None:
    root = tmp_path / "uploads"
    a = receive([("report.txt", ARTICLE)], root)
    b = receive([("report.txt", ARTICLE)], root)
    assert a.folder != b.folder
    for batch in (a, b):
        assert batch.folder.parent == root
        assert "report" not in batch.folder.name
        assert [p.name for p in batch.accepted] == ["report.txt"]
        assert batch.accepted[0].read_bytes() == ARTICLE
        assert batch.rejected == []


@pytest.mark.parametrize("name", [
    "../../outside.txt", "/etc/cron.d/outside.txt", "C:\\Windows\\outside.txt",
    "..\\..\\outside.txt", "\uff0e\uff0e\uff0foutside.txt",  # full-width "../"
])
def test_path_in_a_name_cannot_leave_the_batch_folder(tmp_path: Path, name: str) -> None:
    root = tmp_path / "deep" / "uploads"
    batch = receive([(name, ARTICLE)], root)
    assert [p.name for p in batch.accepted] == ["outside.txt"]
    assert batch.accepted[0].parent == batch.folder
    assert list(tmp_path.rglob("outside.txt")) == batch.accepted  # nothing anywhere else


def test_names_are_made_safe_and_unique(tmp_path: Path) -> None:
    files = [(".hidden.txt", ARTICLE), ("Report.TXT", ARTICLE), ("report.txt", ARTICLE),
             ("evil\u202etxt.md", ARTICLE), ("CON.txt", ARTICLE), ("a" * 500 + ".txt", ARTICLE),
             ("Истанбул_бюро.txt", ARTICLE)]
    batch = receive(files, tmp_path)
    names = [p.name for p in batch.accepted]
    assert len(names) == len(files)
    assert len({n.casefold() for n in names}) == len(names)
    for n in names:
        assert not n.startswith(".")
        assert "\u202e" not in n and "/" not in n and "\\" not in n
        assert len(n.encode()) <= UploadLimits().max_name_bytes
        assert n.split(".")[0].upper() != "CON"
    assert "Истанбул_бюро.txt" in names  # other scripts survive


def test_safe_name_keeps_an_extension_and_never_returns_empty() -> None:
    assert safe_name("../") == "upload"
    assert safe_name("...txt").endswith("txt")
    assert safe_name("news.HTML") == "news.html"


def test_disallowed_extensions_are_refused_with_a_reason(tmp_path: Path) -> None:
    batch = receive([("run.exe", PE), ("tool.py", b"print(1)\n"), ("README", ARTICLE),
                     ("ok.txt", ARTICLE)], tmp_path)
    assert [p.name for p in batch.accepted] == ["ok.txt"]
    why = reasons(batch)
    assert set(why) == {"run.exe", "tool.py", "README"}
    assert "'.exe'" in why["run.exe"] and "not accepted" in why["run.exe"]
    assert "without an extension" in why["README"]


@pytest.mark.parametrize(("name", "data", "expect"), [
    ("archive.txt", zip_bytes({"a.txt": ARTICLE}), "ZIP"),
    ("program.txt", ELF, "ELF"),
    ("setup.md", PE, "executable"),
    ("image.html", b"\x89PNG\r\n\x1a\n" + bytes(100), "PNG"),
    ("noise.html", bytes(range(256)) * 20, "not text"),
    ("data.json", b'{"title": "unterminated', "JSON"),
    ("empty.txt", b"", "empty"),
    ("blank.md", b"   \n\n  ", "whitespace"),
])
def test_content_that_does_not_match_the_extension_is_refused(
        tmp_path: Path, name: str, data: bytes, expect: str) -> None:
    batch = receive([(name, data), ("ok.txt", ARTICLE)], tmp_path)
    assert [p.name for p in batch.accepted] == ["ok.txt"]
    assert expect.lower() in reasons(batch)[name].lower()
    # Nothing of the refused file stays, not even a hidden staging copy.
    assert sorted(p.name for p in batch.folder.iterdir()) == ["ok.txt"]


def test_html_with_scripts_is_accepted_as_text(tmp_path: Path) -> None:
    page = (b"<html><head><script>alert(1)</script><title>Talks resume</title></head>"
            b"<body><p>" + ARTICLE + b"</p></body></html>")
    batch = receive([("page.html", page)], tmp_path)
    assert [p.name for p in batch.accepted] == ["page.html"]


def test_too_many_files_refuses_the_batch_and_writes_nothing(tmp_path: Path) -> None:
    limits = UploadLimits(max_files=3)
    with pytest.raises(UploadError, match="4 files"):
        receive([(f"a{i}.txt", ARTICLE) for i in range(4)], tmp_path / "up", limits)
    assert not (tmp_path / "up").exists() or not any((tmp_path / "up").iterdir())


def test_too_large_a_batch_is_refused(tmp_path: Path) -> None:
    limits = UploadLimits(max_total_bytes=len(ARTICLE) * 2)
    with pytest.raises(UploadError, match="limit"):
        receive([(f"a{i}.txt", ARTICLE) for i in range(3)], tmp_path, limits)
    assert not any(tmp_path.iterdir())


def test_too_large_a_file_is_refused(tmp_path: Path) -> None:
    limits = UploadLimits(max_file_bytes=len(ARTICLE) - 1)
    batch = receive([("big.txt", ARTICLE)], tmp_path, limits)
    assert batch.folder is None and batch.accepted == []
    assert "limit" in reasons(batch)["big.txt"]
    assert not any(tmp_path.iterdir())  # an all-refused batch leaves no folder


def test_no_files_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(UploadError):
        receive([], tmp_path)


# --- zip archives ------------------------------------------------------------------------


def test_zip_members_are_extracted_flat_into_the_batch(tmp_path: Path) -> None:
    data = zip_bytes({"2024/march/talks.txt": ARTICLE, "2024/april/talks.txt": ARTICLE,
                      "2024/": b"", "notes.md": ARTICLE})
    batch = receive([("articles.zip", data)], tmp_path)
    assert sorted(p.name for p in batch.accepted) == ["notes.md", "talks-2.txt", "talks.txt"]
    assert all(p.parent == batch.folder for p in batch.accepted)
    assert batch.rejected == []


def test_dangerous_zip_members_are_refused_one_by_one(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("good.txt", ARTICLE)
        zf.writestr("../../escape.txt", ARTICLE)
        zf.writestr("/etc/absolute.txt", ARTICLE)
        zf.writestr("C:/Windows/drive.txt", ARTICLE)
        zf.writestr("inner.zip", zip_bytes({"x.txt": ARTICLE}))
        zf.writestr("tool.exe", PE)
        zf.writestr("__MACOSX/._good.txt", b"\x00\x05\x16\x07")
        zf.writestr(".env.txt", ARTICLE)
        link = zipfile.ZipInfo("link.txt")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, "/etc/passwd")
        zf.writestr("renamed.txt", ELF)
    before = all_files(tmp_path)
    batch = receive([("bundle.zip", buf.getvalue())], tmp_path)
    assert [p.name for p in batch.accepted] == ["good.txt"]
    why = reasons(batch)
    assert "outside" in why["bundle.zip/../../escape.txt"]
    assert "absolute" in why["bundle.zip//etc/absolute.txt"]
    assert "absolute" in why["bundle.zip/C:/Windows/drive.txt"]
    assert "archive inside an archive" in why["bundle.zip/inner.zip"]
    assert "'.exe'" in why["bundle.zip/tool.exe"]
    assert "hidden" in why["bundle.zip/__MACOSX/._good.txt"]
    assert "hidden" in why["bundle.zip/.env.txt"]
    assert "symbolic link" in why["bundle.zip/link.txt"]
    assert "ELF" in why["bundle.zip/renamed.txt"]
    created = all_files(tmp_path) - before
    assert created == {batch.folder, batch.folder / "good.txt"}


def test_zip_bomb_member_is_refused(tmp_path: Path) -> None:
    bomb = b"A" * (5 * 1024 * 1024)  # compresses about 1000 to 1
    batch = receive([("b.zip", zip_bytes({"bomb.txt": bomb, "ok.txt": ARTICLE}))], tmp_path)
    assert [p.name for p in batch.accepted] == ["ok.txt"]
    assert "zip bomb" in reasons(batch)["b.zip/bomb.txt"]


def test_zip_that_would_unpack_too_much_is_refused_whole(tmp_path: Path) -> None:
    members = {f"a{i}.txt": ARTICLE for i in range(10)}
    limits = UploadLimits(max_unpacked_bytes=len(ARTICLE) * 5)
    batch = receive([("many.zip", zip_bytes(members, zipfile.ZIP_STORED))], tmp_path, limits)
    assert batch.accepted == []
    assert "unpack" in reasons(batch)["many.zip"]


def test_zip_with_too_many_members_is_refused_whole(tmp_path: Path) -> None:
    members = {f"a{i}.txt": ARTICLE for i in range(6)}
    batch = receive([("many.zip", zip_bytes(members))], tmp_path,
                    UploadLimits(max_zip_members=5))
    assert batch.accepted == []
    assert "6 entries" in reasons(batch)["many.zip"]


def test_header_that_understates_the_size_cannot_unpack_more(tmp_path: Path) -> None:
    data = bytearray(zip_bytes({"liar.txt": b"A" * 1_000_000, "ok.md": ARTICLE}))
    # Declare 100 bytes for a member that inflates to a megabyte (passes the ratio check).
    cd = data.index(b"PK\x01\x02")
    data[cd + 24: cd + 28] = (100).to_bytes(4, "little")
    batch = receive([("liar.zip", bytes(data))], tmp_path)
    assert [p.name for p in batch.accepted] == ["ok.md"]
    assert "cannot be extracted" in reasons(batch)["liar.zip/liar.txt"]
    assert sum(p.stat().st_size for p in batch.folder.iterdir()) == len(ARTICLE)


def test_encrypted_member_is_refused(tmp_path: Path) -> None:
    data = bytearray(zip_bytes({"secret.txt": ARTICLE}, zipfile.ZIP_STORED))
    data[6] |= 0x1  # local header: "encrypted" flag
    cd = data.index(b"PK\x01\x02")
    data[cd + 8] |= 0x1  # central directory: same flag
    batch = receive([("locked.zip", bytes(data))], tmp_path)
    assert batch.accepted == []
    assert "encrypted" in reasons(batch)["locked.zip/secret.txt"]


def test_corrupt_zip_is_refused(tmp_path: Path) -> None:
    batch = receive([("broken.zip", b"PK\x03\x04 this is not really a zip"),
                     ("ok.txt", ARTICLE)], tmp_path)
    assert [p.name for p in batch.accepted] == ["ok.txt"]
    assert "ZIP" in reasons(batch)["broken.zip"]


# --- building an upload into the store ---------------------------------------------------


@pytest.fixture
def store(tmp_path: Path, seeds_dir: Path) -> Path:
    src = tmp_path / "sources"
    shutil.copytree(seeds_dir, src)
    out = tmp_path / "store"
    save_dataset(build_dataset([src]), out)
    return out


def snapshot(store: Path) -> tuple[dict, dict[str, pd.DataFrame], list[Path]]:
    ds = load_dataset(store)
    return read_manifest(store), ds.frames(), list_versions(store)


def assert_same(store: Path, before: tuple) -> None:
    manifest, frames, versions = snapshot(store)
    assert manifest == before[0]
    assert versions == before[2]
    for name, df in frames.items():
        pd.testing.assert_frame_equal(df, before[1][name])


def test_upload_builds_a_new_version_with_old_and_new_sources(
        tmp_path: Path, store: Path) -> None:
    old = read_manifest(store)
    old_docs = len(load_dataset(store).documents)
    batch = receive([("talks.txt", ARTICLE)], tmp_path / "uploads")
    ds = build_upload(batch, store)
    manifest = read_manifest(store)
    assert manifest["sources"] == old["sources"] + [str(batch.folder.resolve())]
    docs = load_dataset(store).documents
    assert len(docs) == old_docs + 1 == len(ds.documents)
    assert any(str(batch.folder) in s for s in docs["source"])
    rollback(store)  # the previous version is kept
    assert read_manifest(store) == old


def test_second_upload_keeps_the_first(tmp_path: Path, store: Path) -> None:
    first = receive([("talks.txt", ARTICLE)], tmp_path / "uploads")
    build_upload(first, store)
    other = ARTICLE.replace(b"Sunday", b"Monday").replace(b"Aegean", b"Cyprus question")
    second = receive([("more.txt", other)], tmp_path / "uploads")
    build_upload(second, store)
    sources = read_manifest(store)["sources"]
    assert str(first.folder.resolve()) in sources and str(second.folder.resolve()) in sources


def test_failure_during_the_build_leaves_the_store_unchanged(
        tmp_path: Path, store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = snapshot(store)
    batch = receive([("talks.txt", ARTICLE)], tmp_path / "uploads")

    def crash(*_args, **_kwargs):
        raise RuntimeError("killed mid-build")

    monkeypatch.setattr("core.pipeline.graph.edges_frame", crash)
    with pytest.raises(RuntimeError, match="killed mid-build"):
        build_upload(batch, store)
    assert_same(store, before)


def test_failure_while_writing_leaves_the_store_unchanged(
        tmp_path: Path, store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = snapshot(store)
    batch = receive([("talks.txt", ARTICLE)], tmp_path / "uploads")
    real = pd.DataFrame.to_parquet
    calls = []

    def flaky(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 3:  # after two frames are on disk
            raise OSError("disk full")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(pd.DataFrame, "to_parquet", flaky)
    with pytest.raises(OSError, match="disk full"):
        build_upload(batch, store)
    monkeypatch.undo()
    assert_same(store, before)
    assert not [p for p in (store / "versions").iterdir() if p.name.startswith(".tmp")]


def test_unreadable_manifest_stops_the_build(tmp_path: Path, store: Path) -> None:
    (current(store) / "build.json").write_text("{not json", encoding="utf-8")
    batch = receive([("talks.txt", ARTICLE)], tmp_path / "uploads")
    with pytest.raises(StoreError):
        build_upload(batch, store)  # rebuilding without the old sources would drop them


def test_store_without_a_manifest_stops_the_build(tmp_path: Path, store: Path) -> None:
    (store / "current").unlink()
    batch = receive([("talks.txt", ARTICLE)], tmp_path / "uploads")
    with pytest.raises(StoreError, match="sources"):
        build_upload(batch, store)


def test_first_upload_creates_the_store(tmp_path: Path) -> None:
    batch = receive([("talks.txt", ARTICLE)], tmp_path / "new-store-uploads")
    build_upload(batch, tmp_path / "new-store")
    manifest = read_manifest(tmp_path / "new-store")
    assert manifest["sources"] == [str(batch.folder.resolve())]
    assert len(load_dataset(tmp_path / "new-store").documents) == 1


def test_a_batch_with_nothing_accepted_is_not_built(tmp_path: Path, store: Path) -> None:
    batch = receive([("x.exe", PE)], tmp_path / "uploads")
    before = snapshot(store)
    with pytest.raises(UploadError):
        build_upload(batch, store)
    assert_same(store, before)


def test_saved_uploads_are_not_executable(tmp_path: Path) -> None:
    batch = receive([("talks.txt", ARTICLE)], tmp_path)
    mode = os.stat(batch.accepted[0]).st_mode
    assert not mode & (stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def test_rebuild_without_an_upload_keeps_the_recorded_sources(
        tmp_path: Path, store: Path) -> None:
    batch = receive([("talks.txt", ARTICLE)], tmp_path / "uploads")
    build_upload(batch, store)
    before = read_manifest(store)
    rebuild_store(store)
    after = read_manifest(store)
    assert after["sources"] == before["sources"]
    assert after["counts"] == before["counts"]
    assert len(list_versions(store)) == 2  # the previous version is still there


def test_rebuild_of_an_empty_store_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no sources"):
        rebuild_store(tmp_path / "nothing")
