"""Fetching the benchmarks: download, resume (HTTP Range), checksum refusal, cancel, offline re-use,
--from imports. Every byte comes from a server on 127.0.0.1 (tests/data/benchmark_files.py)."""

import threading

import pytest

import modstudio.data.benchmarks.fetch as fetch
from modstudio.data import DataError
from modstudio.data.benchmarks import ChecksumError, DownloadCancelled, DownloadError, get, state
from modstudio.data.benchmarks.catalog import PINNED, BenchmarkFile
from tests.data.benchmark_files import benchmark_env, closed_port_url  # noqa: F401  (fixture)

IMAGES = "train-images-idx3-ubyte.gz"


def stored(env, name="mnist"):
    return env.data_dir / "benchmarks" / name


def test_get_downloads_every_file_verified_into_the_user_data_folder(benchmark_env):
    env = benchmark_env
    results = get("mnist")
    assert [r.action for r in results] == ["downloaded"] * 4
    assert all(r.origin == env.server.url + r.name for r in results)
    for r in results:
        assert r.path == stored(env) / r.name
        assert r.path.read_bytes() == env.files[r.name]
    assert sorted(p.name for p in stored(env).iterdir()) == sorted(r.name for r in results)  # no .part left
    assert state("mnist").present


def test_an_interrupted_transfer_resumes_with_a_range_request(benchmark_env):
    env = benchmark_env
    body = env.files[IMAGES]
    env.server.cuts[IMAGES] = [len(body) // 3]
    get("mnist")
    assert (stored(env) / IMAGES).read_bytes() == body
    ranges = [r for name, r in env.server.requests if name == IMAGES]
    assert ranges == [None, f"bytes={len(body) // 3}-"]


def test_a_part_left_by_an_earlier_run_is_resumed_not_started_again(benchmark_env, monkeypatch):
    env = benchmark_env
    body = env.files[IMAGES]
    monkeypatch.setattr(fetch, "RESUMES_PER_MIRROR", 0)  # the first run gives up after the cut
    env.server.cuts[IMAGES] = [1000]
    with pytest.raises(DownloadError, match="kept to resume"):
        get("mnist")
    assert not (stored(env) / IMAGES).exists()
    assert (stored(env) / (IMAGES + ".part")).stat().st_size == 1000
    assert state("mnist").files[0].partial == 1000
    env.server.requests.clear()
    get("mnist")
    assert (stored(env) / IMAGES).read_bytes() == body
    assert (IMAGES, "bytes=1000-") in env.server.requests


def test_a_server_that_ignores_range_sends_the_whole_file_and_the_part_starts_again(benchmark_env):
    env = benchmark_env
    part = stored(env) / (IMAGES + ".part")
    part.parent.mkdir(parents=True)
    part.write_bytes(b"old bytes from somewhere else")
    env.server.ignore_range = True
    get("mnist")
    assert (stored(env) / IMAGES).read_bytes() == env.files[IMAGES]


def test_a_resumed_part_that_fails_the_check_is_fetched_again_whole(benchmark_env):
    env = benchmark_env
    part = stored(env) / (IMAGES + ".part")
    part.parent.mkdir(parents=True)
    part.write_bytes(b"\x00" * 500)  # not the file's first bytes: resuming would give a wrong file
    get("mnist")
    assert (stored(env) / IMAGES).read_bytes() == env.files[IMAGES]
    assert [r for name, r in env.server.requests if name == IMAGES] == ["bytes=500-", None]


def test_wrong_bytes_are_refused_naming_the_file_and_the_checksum_and_nothing_is_kept(benchmark_env):
    env = benchmark_env
    env.server.files[IMAGES] = env.files[IMAGES][:-10] + b"0123456789"  # same size, other bytes
    expected = env.catalog["mnist"].file(IMAGES).sha256
    with pytest.raises(ChecksumError) as caught:
        get("mnist")
    message = str(caught.value)
    assert IMAGES in message and expected in message and "not kept" in message
    assert not (stored(env) / IMAGES).exists()
    assert not (stored(env) / (IMAGES + ".part")).exists()


def test_the_next_mirror_is_tried_when_one_is_down_or_lacks_the_file(benchmark_env):
    env = benchmark_env
    results = get("mnist", mirrors=[closed_port_url(), env.server.url + "missing/"])
    assert all(r.origin.startswith(env.server.url) for r in results)
    assert state("mnist").present


def test_no_mirror_answering_is_a_download_error_naming_each(benchmark_env):
    env = benchmark_env
    env.server.stop()
    with pytest.raises(DownloadError) as caught:
        get("mnist")
    assert not isinstance(caught.value, ChecksumError)
    assert IMAGES in str(caught.value) and env.server.url in str(caught.value)


def test_a_server_sending_far_more_than_the_file_is_cut_off(benchmark_env):
    env = benchmark_env
    spec = env.catalog["mnist"].file(IMAGES)
    env.server.files[IMAGES] = b"x" * (spec.max_bytes + 1)
    with pytest.raises(DownloadError, match="far more than"):
        get("mnist")
    assert not (stored(env) / IMAGES).exists()


def test_cancel_keeps_the_part_and_the_next_get_finishes_it(benchmark_env, monkeypatch):
    env = benchmark_env
    monkeypatch.setattr(fetch, "CHUNK", 512)
    cancel = threading.Event()

    def progress(t):
        if t.name == IMAGES and t.done >= 1024:
            cancel.set()

    with pytest.raises(DownloadCancelled):
        get("mnist", progress=progress, cancel=cancel)
    kept = (stored(env) / (IMAGES + ".part")).stat().st_size
    assert 1024 <= kept < len(env.files[IMAGES])
    assert not (stored(env) / IMAGES).exists()
    env.server.requests.clear()
    get("mnist")
    assert (stored(env) / IMAGES).read_bytes() == env.files[IMAGES]
    assert (IMAGES, f"bytes={kept}-") in env.server.requests


def test_ctrl_c_mid_file_leaves_a_part_never_a_final_file(benchmark_env, monkeypatch):
    env = benchmark_env
    monkeypatch.setattr(fetch, "CHUNK", 512)

    def progress(t):
        if t.done >= 2048:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        get("mnist", progress=progress)
    assert not (stored(env) / IMAGES).exists()
    assert (stored(env) / (IMAGES + ".part")).stat().st_size >= 2048


def test_once_present_get_works_offline_from_the_cache(benchmark_env):
    env = benchmark_env
    get("mnist")
    env.server.stop()
    results = get("mnist")
    assert [r.action for r in results] == ["kept"] * 4


def test_a_stored_file_damaged_on_disk_is_fetched_again(benchmark_env):
    env = benchmark_env
    get("mnist")
    (stored(env) / IMAGES).write_bytes(b"damaged")
    results = get("mnist")
    assert [r.action for r in results] == ["downloaded", "kept", "kept", "kept"]
    assert (stored(env) / IMAGES).read_bytes() == env.files[IMAGES]


def test_from_a_folder_imports_the_files_found_a_few_levels_down(benchmark_env, tmp_path):
    env = benchmark_env
    raw = tmp_path / "mine" / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in env.catalog["mnist"].files:
        (raw / name.name).write_bytes(env.files[name.name])
    env.server.stop()  # an import never touches the network
    results = get("mnist", source=tmp_path / "mine")
    assert [r.action for r in results] == ["imported"] * 4
    assert results[0].origin == str(raw / IMAGES)
    assert state("mnist").present


def test_from_a_renamed_file_is_known_by_its_checksum(benchmark_env, tmp_path):
    env = benchmark_env
    mine = tmp_path / "cifar.tgz"
    mine.write_bytes(env.files["cifar-10-binary.tar.gz"])
    assert [r.action for r in get("cifar10", source=mine)] == ["imported"]


def test_from_a_damaged_file_is_refused_naming_it_and_the_checksum(benchmark_env, tmp_path):
    env = benchmark_env
    folder = tmp_path / "mine"
    folder.mkdir()
    for name, body in env.files.items():
        (folder / name).write_bytes(body)
    (folder / IMAGES).write_bytes(env.files[IMAGES][:-1])  # truncated
    with pytest.raises(ChecksumError) as caught:
        get("mnist", source=folder)
    assert str(folder / IMAGES) in str(caught.value)
    assert env.catalog["mnist"].file(IMAGES).sha256 in str(caught.value)
    assert not (stored(env) / IMAGES).exists() and not (stored(env) / (IMAGES + ".part")).exists()


def test_from_a_folder_missing_some_files_keeps_the_others_and_names_the_missing(benchmark_env, tmp_path):
    env = benchmark_env
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / IMAGES).write_bytes(env.files[IMAGES])
    with pytest.raises(DataError, match="t10k-images-idx3-ubyte.gz"):
        get("mnist", source=folder)
    assert state("mnist").missing == ["train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
                                      "t10k-labels-idx1-ubyte.gz"]


def test_an_unknown_benchmark_is_refused_with_the_known_names(benchmark_env):
    with pytest.raises(DataError, match="mnist"):
        get("svhn")


def test_a_mirror_that_is_not_http_is_refused_before_anything_is_fetched(benchmark_env, tmp_path):
    with pytest.raises(DataError, match="--from"):
        get("mnist", mirrors=[tmp_path.as_uri()])
    assert benchmark_env.server.requests == []


def test_every_pinned_file_has_a_well_formed_sha256_and_md5():
    for bench in PINNED.values():
        assert bench.mirrors and all(m.startswith(("https://", "http://")) and m.endswith("/") for m in bench.mirrors)
        for f in bench.files:
            assert isinstance(f, BenchmarkFile) and f.checksum[0] == "sha256"
            assert len(f.sha256) == 64 and int(f.sha256, 16) >= 0
            assert len(f.md5) == 32 and int(f.md5, 16) >= 0
            assert f.size > 0
