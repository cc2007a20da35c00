"""The benchmark's report: medians over the rounds, and the hand-written text around the
generated block survives a new run."""

from types import SimpleNamespace

from bench import run as bench_run
from bench.run import BEGIN, END, median_round, render, write_report


def run(rps: float, p95: float = 2000, errors: int = 0) -> dict:
    return {"rps": rps, "errors": errors, "p50": 1000, "p95": p95, "p99": 3000}


def test_each_figure_is_the_median_over_the_rounds_and_errors_add_up():
    rounds = [
        (run(100, p95=90_000), run(400)),
        (run(300, errors=2), run(400)),
        (run(200), run(500)),
    ]
    picked = median_round(rounds)
    assert picked["project"]["rps"] == 200 and picked["floor"]["rps"] == 400
    assert picked["project"]["p95"] == 2000  # the stalled round's 90 ms is not reported
    assert picked["project"]["errors"] == 2
    assert (picked["ratio_min"], picked["ratio"], picked["ratio_max"]) == (0.25, 0.4, 0.75)


def test_a_new_report_replaces_only_the_generated_block(tmp_path):
    path = tmp_path / "BENCHMARKS.md"
    write_report(path, "first table")
    text = path.read_text()
    assert text.startswith("# Benchmarks") and "first table" in text
    path.write_text(text + "\n## Analysis\n\nwritten by hand\n")
    write_report(path, "second table")
    text = path.read_text()
    assert "second table" in text and "first table" not in text
    assert (
        text.index(BEGIN)
        < text.index("second table")
        < text.index(END)
        < text.index("written by hand")
    )


def test_the_in_process_driver_replays_a_request_file_through_django(tmp_path, monkeypatch, db):
    from django.core.wsgi import get_wsgi_application

    from bench import in_process

    (tmp_path / "probe.project.txt").write_text(
        "#H X-Probe: yes\n/healthz?a=1\n/no-such-path\n/chained\tX-Only: one\n"
    )
    monkeypatch.setattr(in_process, "REQUESTS", tmp_path)
    environs = in_process.request_environs("probe.project.txt")
    assert [(e["PATH_INFO"], e["QUERY_STRING"]) for e in environs] == [
        ("/healthz", "a=1"),
        ("/no-such-path", ""),
        ("/chained", ""),
    ]
    assert all(e["HTTP_X_PROBE"] == "yes" for e in environs)
    assert [e.get("HTTP_X_ONLY") for e in environs] == [None, None, "one"]
    cpu, status = in_process.drive(get_wsgi_application(), environs[:1], 3)
    assert status.startswith("200") and cpu > 0


def test_the_report_shows_each_floors_ratio_and_sign_ins_per_vcpu(monkeypatch):
    monkeypatch.setattr(bench_run, "vcpus", lambda: 2)
    results = [
        {
            "size": 1000,
            "op": "GET account by UID",
            "project": run(700),
            "floors": {
                "bare": median_round([(run(700), run(1000))]),
                "settings": median_round([(run(700), run(800))]),
            },
        },
        {
            "size": 1000,
            "op": "Search: UID",
            "project": run(500),
            "floors": {"settings": median_round([(run(500), run(1000))])},
        },
    ]
    signins = [{"size": 1000, "op": "Sign-in (password)", **run(41)}]
    notes = {
        "profile": {"project": {"keys": 126, "bytes": 2700}, "bare": {"keys": 126, "bytes": 2600}},
        "hasher": {"hasher": "ConfiguredArgon2PasswordHasher", "params": "m=19456", "ms": 21.0},
    }
    args = SimpleNamespace(workers=4, threads=2, connections=8, duration=10, rounds=1)

    text = render(results, signins, notes, command="c", machine="m", args=args, seeded=1)

    rows = {line.split(" | ")[0].strip("| "): line for line in text.splitlines() if "|" in line}
    assert "**0.70**" in rows["GET account by UID"] and "**0.88**" in rows["GET account by UID"]
    assert rows["Search: UID"].count("—") == 4 and "**0.50**" in rows["Search: UID"]
    assert "**20.5**" in rows["Sign-in (password)"]
    assert "126 keys, 2,700 bytes; bare floor 126 keys, 2,600 bytes" in text
