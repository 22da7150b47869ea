"""A/B: the 10,000-record batch on this tree against an earlier commit, side by side in one run.

    .venv/bin/python -m benchmarks.batch_ab --baseline ca29bc4          # 15 rounds, ports 8320/8321
    .venv/bin/python -m benchmarks.batch_ab --baseline HEAD~5 --rounds 25
    .venv/bin/python -m benchmarks.batch_ab --baseline ca29bc4 --current 0158d3a   # two commits

A refactor must not make the batch slower, and on a shared 2-core machine two separate runs
differ by more than the change being judged. So both versions run at the same time: the
baseline commit is checked out into a temporary git worktree, each tree gets its own gunicorn
(same `gunicorn.conf.py` settings, same virtualenv, same benchmark database), and the rounds
alternate which one goes first. Each round posts the same 10,000 records to both; the report
gives each side's median and the ratio of medians (current / baseline; below 1.0 is faster).
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx

from benchmarks.batch import DEFAULT_DATABASE_URL, activity, ensure_database, gunicorn, setup_django, tenant_with_token

ROOT = Path(__file__).resolve().parent.parent
BATCH_SIZE = 10_000


@contextmanager
def baseline_worktree(revision: str):
    """`revision` checked out in a temporary worktree, removed afterwards."""
    path = Path(tempfile.mkdtemp(prefix="verisyntra-baseline-"))
    subprocess.run(["git", "worktree", "add", "--detach", str(path), revision], cwd=ROOT, check=True, capture_output=True)
    try:
        yield path
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(path)], cwd=ROOT, check=False, capture_output=True)


def post_batch(client: httpx.Client, base_url: str, tenant_id: str, token: str, body: bytes) -> float:
    started = time.perf_counter()
    response = client.post(
        f"{base_url}/batch/processing-activities",
        params={"tenant_id": tenant_id},
        content=body,
        headers={"Content-Type": "application/json", "Authorization": f"Token {token}"},
    )
    elapsed = time.perf_counter() - started
    if response.status_code != 201:
        sys.exit(f"{base_url}: batch answered {response.status_code}: {response.text[:300]}")
    return elapsed


def reset_tenant(tenant_id: str) -> None:
    from django.db import connections

    with connections["write"].cursor() as cursor:
        cursor.execute("DELETE FROM inventory_processingactivity WHERE tenant_id = %s", [tenant_id])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", required=True, help="The git revision to compare against (e.g. a commit before a refactor).")
    parser.add_argument("--current", help="A git revision to measure instead of this working tree (checked out the same way).")
    parser.add_argument("--rounds", type=int, default=15, help="Measured rounds (each posts one batch to each side), after one warm-up.")
    parser.add_argument("--ports", type=int, nargs=2, default=(8320, 8321), metavar=("BASELINE", "CURRENT"))
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    args = parser.parse_args()
    logging.getLogger("httpx").setLevel(logging.WARNING)

    ensure_database(args.database_url)
    setup_django(args.database_url)
    tenant_id, token = tenant_with_token("bench-batch-ab")
    body = json.dumps({"activities": [activity(i) for i in range(BATCH_SIZE)]}).encode()
    revision = subprocess.run(
        ["git", "rev-parse", "--short", args.baseline], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout.strip()
    current = subprocess.run(
        ["git", "rev-parse", "--short", args.current or "HEAD"], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()

    times: dict[str, list[float]] = {"baseline": [], "current": []}
    with ExitStack() as stack, httpx.Client(timeout=120) as client:
        tree = stack.enter_context(baseline_worktree(args.baseline))
        current_tree = stack.enter_context(baseline_worktree(args.current)) if args.current else ROOT
        urls = {
            "baseline": stack.enter_context(gunicorn(args.database_url, args.ports[0], tree=tree))[0],
            "current": stack.enter_context(gunicorn(args.database_url, args.ports[1], tree=current_tree))[0],
        }
        for side in ("baseline", "current"):  # warm-up: imports, pools, plans
            post_batch(client, urls[side], tenant_id, token, body)
        for round_number in range(args.rounds):
            order = ("baseline", "current") if round_number % 2 == 0 else ("current", "baseline")
            for side in order:
                reset_tenant(tenant_id)
                times[side].append(post_batch(client, urls[side], tenant_id, token, body))
        reset_tenant(tenant_id)

    medians = {side: statistics.median(values) for side, values in times.items()}
    labels = {"baseline": revision, "current": current + (" + uncommitted changes" if dirty and not args.current else "")}
    print(f"10,000-record POST /batch/processing-activities, {args.rounds} alternating rounds, one run")
    for side, values in times.items():
        low, high = min(values) * 1000, max(values) * 1000
        print(f"  {side:<8} {labels[side]:<12} median {medians[side] * 1000:7.1f} ms  (min {low:.1f}, max {high:.1f})")
    print(f"  current / baseline = {medians['current'] / medians['baseline']:.2f}")


if __name__ == "__main__":
    main()
