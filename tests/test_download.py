"""`personseg download coco` end to end against a fake COCO server on 127.0.0.1 (tests/fake_coco_server):
retries after a dropped connection and a corrupt body, reports files that stay bad, never leaves a
partial file under its final name, resumes, and its JSON feeds `personseg prepare` directly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from personseg.cli import main
from personseg.data.download import download_coco
from tests.fake_coco_server import ARCHIVE_PATH, GOOD_PERSON_PHOTOS, FakeCoco, Server


@pytest.fixture
def fake(request):
    """The fake server; the archive download drops once unless the test is marked `whole_archive`."""
    whole = request.node.get_closest_marker("whole_archive") is not None
    fake = FakeCoco(archive_script=["ok"] if whole else ["drop", "ok"])
    with Server(fake) as url:
        fake.url = url
        yield fake


def cli(fake, out: Path, *extra: str) -> int:
    return main(["download", "coco", "--split", "val2017", "--out", str(out), "--backoff", "0",
                 "--annotations", fake.url + ARCHIVE_PATH, "--images-url", fake.url, *extra])


def every_file(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def test_person_photos_download_with_retries_then_prepare_reads_them(fake, tmp_path, capsys):
    out = tmp_path / "coco"
    assert cli(fake, out, "--person-only", "--retries", "2", "--workers", "3") == 1  # 3 photos stay bad
    stdout = capsys.readouterr().out
    assert "done (val2017): 3 images (3 downloaded, 0 already there), 3 failed" in stdout
    assert "000000000003.jpg: not a readable image (corrupt or truncated) (after 3 attempts)" in stdout
    assert "000000000004.jpg: image is 10×10 but the annotations say 24×16 (after 3 attempts)" in stdout
    assert "000000000007.jpg: HTTP 404" in stdout
    # the dropped archive and photo, and the garbage-once photo, were each fetched a second time
    assert fake.requests[ARCHIVE_PATH] == 2
    assert fake.requests["/val2017/000000000002.jpg"] == 2 and fake.requests["/val2017/000000000006.jpg"] == 2
    assert fake.requests["/val2017/000000000003.jpg"] == 3 and fake.requests["/val2017/000000000007.jpg"] == 1
    assert fake.requests["/val2017/000000000005.jpg"] == 0  # a dog photo: not a person photo
    # only complete, verified photos under their names, and no temporary file left anywhere
    assert every_file(out / "images") == [f"val2017/{name}" for name in GOOD_PERSON_PHOTOS]
    assert every_file(out) == sorted([
        "annotations/instances_val2017.json", "downloads/annotations_trainval2017.zip",
        "downloads/instances_val2017.json", *(f"images/val2017/{n}" for n in GOOD_PERSON_PHOTOS)])
    coco = json.loads((out / "annotations/instances_val2017.json").read_text())
    assert [image["file_name"] for image in coco["images"]] == GOOD_PERSON_PHOTOS
    assert sorted(a["image_id"] for a in coco["annotations"]) == [1, 2, 6]
    assert {c["name"] for c in coco["categories"]} == {"person", "dog"} and coco["licenses"]

    prepared = tmp_path / "prepared"
    assert main(["prepare", "--annotations", str(out / "annotations/instances_val2017.json"),
                 "--images", str(out / "images/val2017"), "--out", str(prepared), "--split", "val"]) == 0
    assert "done (val): 3 images (3 written, 0 already done), 3 person instances" in capsys.readouterr().out


@pytest.mark.whole_archive
def test_a_rerun_skips_valid_photos_and_retries_only_the_failed(fake, tmp_path, capsys):
    out = tmp_path / "coco"
    cli(fake, out, "--person-only", "--retries", "0")
    first = capsys.readouterr().out
    assert "1 image (1 downloaded, 0 already there), 5 failed" in first  # no retries: 2 and 6 fail too
    assert "000000000002.jpg: connection dropped mid-file (after 1 attempt)" in first
    assert every_file(out / "images") == ["val2017/000000000001.jpg"]  # no half photo, no temporary
    before = fake.requests.copy()
    assert cli(fake, out, "--person-only", "--retries", "0") == 1
    second = capsys.readouterr().out
    assert "3 images (2 downloaded, 1 already there), 3 failed" in second
    assert fake.requests[ARCHIVE_PATH] == before[ARCHIVE_PATH]  # archive and JSON kept
    assert fake.requests["/val2017/000000000001.jpg"] == before["/val2017/000000000001.jpg"] == 1
    coco = json.loads((out / "annotations/instances_val2017.json").read_text())
    assert [image["id"] for image in coco["images"]] == [1, 2, 6]
    # a photo replaced on disk by a broken one is fetched again
    (out / "images/val2017/000000000001.jpg").write_bytes(b"broken")
    cli(fake, out, "--person-only", "--retries", "0")
    assert fake.requests["/val2017/000000000001.jpg"] == 2
    assert (out / "images/val2017/000000000001.jpg").read_bytes() == fake.files["/val2017/000000000001.jpg"]


def test_every_photo_and_max_images_with_urls_from_the_environment(fake, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PERSONSEG_COCO_ANNOTATIONS_URL", fake.url + ARCHIVE_PATH)
    monkeypatch.setenv("PERSONSEG_COCO_IMAGES_URL", fake.url + "/")
    report = download_coco(tmp_path / "all", "val2017", max_images=2, backoff=0)
    assert (report.downloaded, report.failed, report.exit_code) == (2, [], 0)
    assert every_file(tmp_path / "all" / "images") == ["val2017/000000000001.jpg", "val2017/000000000002.jpg"]
    # without --person-only the dog photo is wanted too; a local archive works without a server
    archive = tmp_path / "all/downloads/annotations_trainval2017.zip"
    report = download_coco(tmp_path / "local", "val2017", annotations=str(archive), backoff=0, retries=1)
    assert "000000000005.jpg" in {p.name for p in (tmp_path / "local/images/val2017").iterdir()}
    assert sorted(name for name, _ in report.failed) == ["000000000003.jpg", "000000000004.jpg",
                                                        "000000000007.jpg"]
    assert fake.requests[ARCHIVE_PATH] == 2  # the archive once (dropped, then whole); never again


def test_clear_errors(fake, tmp_path, capsys):
    assert main(["download", "coco", "--split", "val2017", "--out", str(tmp_path / "o"),
                 "--annotations", "http://127.0.0.1:9/none.zip", "--retries", "0"]) == 2
    err = capsys.readouterr().err
    assert "error: http://127.0.0.1:9/none.zip: could not connect (after 1 attempt)" in err
    assert main(["download", "coco", "--split", "val2017", "--out", str(tmp_path / "o"),
                 "--annotations", fake.url + "/nothing.zip"]) == 2
    assert "nothing.zip: HTTP 404 Not Found" in capsys.readouterr().err
    assert cli(fake, tmp_path / "o", "--max-images", "0") == 2
    assert "error: --max-images 0: must be at least 1" in capsys.readouterr().err
    missing = tmp_path / "missing.zip"
    assert cli(fake, tmp_path / "o", "--annotations", str(missing)) == 2
    assert f"error: {missing}: annotations file not found" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["download", "coco", "--split", "test2017", "--out", str(tmp_path / "o")])


@pytest.mark.whole_archive
def test_a_corrupt_archive_is_fetched_again_never_kept_as_complete(fake, tmp_path, capsys):
    from tests.fake_coco_server import corrupt

    fake.script[ARCHIVE_PATH] = ["corrupt", "ok"]  # the right length, a bad CRC: fetched again
    out = tmp_path / "coco"
    assert cli(fake, out, "--person-only", "--retries", "1", "--max-images", "1") == 0
    assert fake.requests[ARCHIVE_PATH] == 2
    # a corrupt copy already on disk (an older version kept it) is deleted and fetched again
    archive = out / "downloads/annotations_trainval2017.zip"
    archive.write_bytes(corrupt(fake.files[ARCHIVE_PATH]))
    (out / "downloads/instances_val2017.json").unlink()
    assert cli(fake, out, "--person-only", "--retries", "0", "--max-images", "1") == 0
    assert "corrupt" in capsys.readouterr().out and fake.requests[ARCHIVE_PATH] == 3
    assert archive.read_bytes() == fake.files[ARCHIVE_PATH]
    # a local archive that fails its CRC is one error line naming it
    bad = tmp_path / "local.zip"
    bad.write_bytes(corrupt(fake.files[ARCHIVE_PATH]))
    assert cli(fake, tmp_path / "other", "--annotations", str(bad)) == 2
    assert f"error: {bad}: the archive is corrupt" in capsys.readouterr().err


@pytest.mark.whole_archive
def test_leftovers_of_a_killed_download_are_removed_by_the_next_run(fake, tmp_path, capsys):
    out = tmp_path / "coco"
    folder = out / "images/val2017"
    folder.mkdir(parents=True)
    dead = folder / ".000000000001.999999999.abcdefgh.tmp.jpg"  # a writer pid that cannot run
    dead.write_bytes(b"half a photo")
    assert cli(fake, out, "--person-only", "--retries", "0", "--max-images", "1") == 0
    assert not dead.exists() and "removed, a temporary file of a killed run" in capsys.readouterr().err
