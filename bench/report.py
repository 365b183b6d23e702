"""Render the results in bench/out/*.json as the Markdown tables of docs/PERFORMANCE.md.

Not a benchmark: it reads what sampler_cost.py, memory.py, throughput.py, history_latency.py
and storage.py saved in their last run and prints one section per benchmark (command, machine,
date, git HEAD, figures, ratio to the goal). Paste the output into docs/PERFORMANCE.md, then
add the "what limits it" notes by hand.

Run (from the repository root):
    .venv/bin/python bench/report.py > /tmp/perf.md
"""

from __future__ import annotations

import json
from typing import Any

import harness


def _load(name: str) -> dict[str, Any] | None:
    path = harness.OUT_DIR / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def _head(r: dict[str, Any], make_target: str) -> str:
    m = r["machine"]
    dirty = m.get("src_uncommitted_changes")
    state = f"git {m.get('git_head')}" + (f" (+{dirty} uncommitted src changes)" if dirty else "")
    return (
        f"Command: `.venv/bin/python bench/{r['command']}` (or `make -C bench {make_target}`)  \n"
        f"Machine: nproc {m['nproc']}, {m['cpu_model']}, {m['mem_gib']} GiB, Linux {m['kernel']}, "
        f"Python {m['python']}, SQLite {m['sqlite']}; load average at start "
        f"{', '.join(f'{x:.2f}' for x in m['loadavg_at_start'])}  \n"
        f"Date: {m['date_utc']}; {state}\n"
    )


def _verdict(ok: bool) -> str:
    return "**pass**" if ok else "**FAIL**"


def sampler() -> None:
    r = _load("sampler_cost")
    if r is None:
        return
    a, s = r["in_process"], r.get("serve_median", {})
    print("## Sampler cost (CPU per check)\n")
    print(_head(r, "sampler"))
    print("| measurement | figure | goal | ratio to goal | verdict |")
    print("|---|---|---|---|---|")
    mean, paced = a["cpu_ms_per_check_mean"], a["paced_cpu_ms_per_check_mean"]
    print(
        f"| in-process `Sampler.sample_once()`, back to back ({a['checks']} checks): mean / p50 / p99 "
        f"| {mean} / {a['cpu_ms_per_check_p50']} / {a['cpu_ms_per_check_p99']} ms "
        f"| ≤ 1 ms | {mean:.2f}x | {_verdict(mean <= 1)} |"
    )
    print(
        f"| of which: probe (all) / service states / write transaction "
        f"| {a['probe_ms_mean']} / {a['service_states_ms_mean']} / {a['write_ms_mean']} ms | | | |"
    )
    print(
        f"| in-process, one check every {a['pace_s']} s ({a['paced_checks']} checks, cold caches): "
        f"probe + write | {paced} ms ({a['paced_probe_ms_mean']} + {a['paced_write_ms_mean']}) "
        f"| ≤ 1 ms | {paced:.2f}x | {_verdict(paced <= 1)} |"
    )
    if s:
        n = len(r["serve_rounds"])
        net_ms, net_pct = s["net_cpu_ms_per_check"], s["net_pct_of_core"]
        print(
            f"| `checkd serve --interval 1`, net of an idle one, median of {n} x "
            f"{r['serve_rounds'][0]['window_s']:.0f} s: CPU per check | {net_ms} ms | ≤ 1 ms "
            f"| {net_ms:.2f}x | {_verdict(net_ms <= 1)} |"
        )
        print(
            f"| same, share of one core | {net_pct} % | ≤ 0.1 % | {net_pct / 0.1:.2f}x "
            f"| {_verdict(net_pct <= 0.1)} |"
        )
        print(f"| `checkd serve --interval 1`, whole process (gross) | {s['sampling_pct_of_core']} % | | | |")
        print(f"| `checkd serve`, sampler stopped (idle baseline) | {s['idle_pct_of_core']} % | | | |")
        if "glances_pct_of_core" in s:
            print(
                f"| Glances 4.5.8 `-w --disable-webui`, no client, same window | "
                f"{s['glances_pct_of_core']} % | | | reference |"
            )
        print("\nPer round (net % of a core, net ms per check, checks in window):")
        for i, b in enumerate(r["serve_rounds"], 1):
            g = f", Glances {b['glances']['pct_of_core']} %" if "glances" in b else ""
            print(
                f"round {i}: {b['net_pct_of_core']} %, {b['net_cpu_ms_per_check']} ms, "
                f"{b['checks_in_window']} checks; sampling {b['sampling']['pct_of_core']} %, "
                f"idle {b['idle']['pct_of_core']} %{g} (CPU source: {b['sampling']['source']})  "
            )
    print(f"\nService: {a['service_backends']}, state during the run {a['service_states']}.\n")


def memory() -> None:
    r = _load("memory")
    if r is None:
        return
    print("## Memory (RSS of `checkd serve --interval 1`)\n")
    print(_head(r, "memory"))
    print(
        "| process | RSS at start of window | at end | max | slope | extrapolated to 1 h | goal | verdict |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name in ("checkd", "glances"):
        if name not in r:
            continue
        x = r[name]
        one_h = x["rss_at_1h_extrapolated_mib"]
        goal = f"≤ 45 MiB ({one_h / 45:.2f}x)" if name == "checkd" else "reference (~70 MiB)"
        verdict = _verdict(one_h <= 45) if name == "checkd" else ""
        print(
            f"| {name} | {x['rss_start_mib']} MiB | {x['rss_end_mib']} MiB | {x['rss_max_mib']} MiB "
            f"| {x['slope_mib_per_h']:+} MiB/h | {one_h} MiB | {goal} | {verdict} |"
        )
    c = r["checkd"]
    print(
        f"\nWindow {r['seconds']:.0f} s after a warm-up, samples every few seconds; checkd stored "
        f"{c['checks_stored']} checks; {c['threads']} threads at the end; VmHWM {c['vm_hwm_mib']} MiB.\n"
    )
    b = _load("memory_breakdown")
    if b and "serve_imports" in b:
        print("RSS after each step of `checkd serve`'s imports (`memory.py --breakdown`):\n")
        print("| import | RSS MiB | + MiB |")
        print("|---|---|---|")
        for row in b["serve_imports"]:
            print(f"| {row['module']} | {row['rss_mib']} | {row['delta_mib']:+} |")
        print("\nRSS each package adds when imported alone in a fresh interpreter (overlapping figures):\n")
        print("| package | + MiB alone | loaded by serve |")
        print("|---|---|---|")
        for row in b["packages"]:
            print(f"| {row['package']} | {row['alone_mib']} | {'yes' if row['loaded_by_serve'] else 'no'} |")
        print()


def throughput() -> None:
    r = _load("throughput")
    if r is None:
        return
    goals = {"latest": 5.0, "history": 3.0}
    s = r["summary"]
    print("## Throughput (wrk -t2 -c16 -d10s, loopback)\n")
    print(_head(r, "throughput"))
    print(f"checkd database: {r['populate']} bulk-loaded checks, sampler running at 1 s.\n")
    print("| URL | req/s (median) | rounds | p50 / p99 latency | x Glances | goal | verdict |")
    print("|---|---|---|---|---|---|---|")
    urls = {
        "glances": "Glances `/api/4/cpu`",
        "latest": "checkd `/api/v2/checks/latest`",
        "history": "checkd `/v1.0/checks/cpu/history?size=100`",
        "latest (uncached)": "checkd latest + unique `nocache=N` (every request misses the cache)",
        "history (uncached)": "checkd history + unique `nocache=N`",
        "ceiling raw": "bare ASGI callable, fixed body (ceiling)",
        "ceiling fastapi": "one FastAPI route, fixed body (ceiling)",
    }
    for name, x in s.items():
        goal = goals.get(name)
        g = f"≥ {goal:g}x" if goal else ""
        v = _verdict(x["vs_glances"] >= goal) if goal else ""
        rounds = ", ".join(f"{v_:.0f}" for v_ in x["rps_rounds"])
        print(
            f"| {urls.get(name, name)} | {x['rps_median']:.0f} | {rounds} | {x['p50_ms_median']} / "
            f"{x['p99_ms_median']} ms | {x['vs_glances']:.2f}x | {g} | {v} |"
        )
    print(f"\nNon-2xx responses: {sum(x['non_2xx'] for x in s.values())}. RSS after: {r['rss_mib_after']}.\n")


def history() -> None:
    r = _load("history_latency")
    if r is None:
        return
    print("## History latency (`/v1.0/checks/cpu/history?size=100`, 10 k vs 1 M checks)\n")
    print(_head(r, "history"))
    print(
        "| stored checks | DB size | HTTP p50 / p90 / p99, cache missed | HTTP p50, cached | SQL alone p50 |"
    )
    print("|---|---|---|---|---|")
    for name in ("small", "large"):
        x = r[name]
        u = x["http_uncached"]
        print(
            f"| {x['checks']:,} | {x['db_mib']} MiB | {u['p50_ms']} / {u['p90_ms']} / {u['p99_ms']} ms "
            f"| {x['http_cached']['p50_ms']} ms | {x['sql_only']['p50_ms']} ms |"
        )
    ratio = r["ratio_p50_uncached"]
    print(
        f"\n| ratio 1 M / 10 k | figure | goal | verdict |\n|---|---|---|---|\n"
        f"| p50, cache missed (judged) | {ratio:.3f}x | ≤ 1.5x | {_verdict(ratio <= 1.5)} |\n"
        f"| p50, cached | {r['ratio_p50_cached']:.3f}x | | |\n"
        f"| p50, SQL alone | {r['ratio_p50_sql_only']:.3f}x | | |\n"
    )
    print(f"Query plan (both sizes): `{'; '.join(r['large']['sql_only']['plan'])}`.\n")


def storage() -> None:
    r = _load("storage")
    if r is None:
        return
    print("## Storage (bytes per check in SQLite, indexes included)\n")
    print(_head(r, "storage"))
    print("| case | checks written | bytes per check | goal | verdict |")
    print("|---|---|---|---|---|")
    for key, label in (("services_1", "1 disk, 1 service (httpd)"), ("services_20", "1 disk, 20 services")):
        if key not in r:
            continue
        x = r[key]
        bpc = x["bytes_per_check"]
        goal = f"≤ 100 B ({bpc / 100:.2f}x)" if key == "services_1" else "(not judged)"
        v = _verdict(bpc <= 100) if key == "services_1" else ""
        print(f"| {label} | {x['checks']:,} | {bpc} B | {goal} | {v} |")
    print("\nPer table and index (bytes on disk per check; payload bytes per check):\n")
    print("| table / index | 1 service | 20 services |")
    print("|---|---|---|")
    names = list(r["services_1"]["by_table"])
    for name in names:
        one = r["services_1"]["by_table"][name]
        twenty = r.get("services_20", {}).get("by_table", {}).get(name)
        t = f"{twenty['per_check']} ({twenty['payload'] / r['services_20']['checks']:.1f})" if twenty else ""
        print(f"| {name} | {one['per_check']} ({one['payload'] / r['services_1']['checks']:.1f}) | {t} |")
    print()


def main() -> None:
    sampler()
    memory()
    throughput()
    history()
    storage()


if __name__ == "__main__":
    main()
