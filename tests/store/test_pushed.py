"""checkd.store.pushed: a pushed batch is stored once per (host, seq), checks the pushing token
inside its write, and two writers racing the same batch store it once (real SQLite and PostgreSQL)."""

from __future__ import annotations

import threading

from sqlalchemy import Engine, func, select

from checkd import store
from checkd.models import check_disks, check_services, checks
from checkd.probes import Check
from checkd.store.pushed import pushed_seq, store_batch
from checkd.store.tokens import TokenGone, create_token, revoke_token
from checkd.tokens import hash_secret

from .test_checks import comparable, make_check


def _pushed(host: str, seqs: list[int]) -> list[tuple[str, int, Check]]:
    return [
        (host, seq, make_check(seq, disks=("/", "/var"), services={"httpd": "active", "db": "failed"}))
        for seq in seqs
    ]


def _count(engine: Engine, table: object) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def _token(engine: Engine, host: str) -> str:
    with engine.begin() as conn:
        return hash_secret(create_token(conn=conn, name=f"ingest-{host}", scope="ingest", host=host))


def test_a_batch_is_stored_once_in_seq_order_and_reads_back_as_sent(engine: Engine) -> None:
    token = _token(engine, "web1")
    batch = _pushed("web1", [3, 1, 2, 2])  # out of order, one seq twice
    stored, duplicates = store_batch(engine=engine, pushed=batch, token_hash=token)
    assert [c.taken_at for c in stored] == [make_check(s).taken_at for s in (1, 2, 3)] and duplicates == 1
    ids = [c.id for c in stored]
    assert ids == sorted(ids) and {c.host for c in stored} == {"web1"}
    with engine.connect() as conn:
        for check in stored:
            got = store.get_check(conn=conn, check_id=check.id)  # type: ignore[arg-type]
            assert got is not None and comparable(got) == comparable(check)
        assert pushed_seq(conn=conn, host="web1") == 3
    again, duplicates = store_batch(engine=engine, pushed=_pushed("web1", [2, 3, 4]), token_hash=token)
    assert [c.taken_at for c in again] == [make_check(4).taken_at] and duplicates == 2
    assert (_count(engine, checks), _count(engine, check_disks), _count(engine, check_services)) == (4, 8, 8)


def test_a_revoked_token_stores_nothing(engine: Engine) -> None:
    token = _token(engine, "web2")
    store_batch(engine=engine, pushed=_pushed("web2", [1]), token_hash=token)
    with engine.begin() as conn:
        assert revoke_token(conn=conn, name="ingest-web2")
    try:
        store_batch(engine=engine, pushed=_pushed("web2", [2, 3]), token_hash=token)
    except TokenGone:
        pass
    else:
        raise AssertionError("a revoked token's batch was stored")
    assert _count(engine, checks) == 1
    with engine.connect() as conn:
        assert pushed_seq(conn=conn, host="web2") == 1
    stored, _ = store_batch(engine=engine, pushed=_pushed("web2", [2]), token_hash=None)  # admin token
    assert len(stored) == 1


def test_two_writers_racing_the_same_batches_store_each_check_once(engine: Engine) -> None:
    token = _token(engine, "web3")
    rounds = [_pushed("web3", list(range(n * 20 + 1, n * 20 + 21))) for n in range(10)]
    accepted = [0, 0]
    errors: list[BaseException] = []

    def push(i: int) -> None:
        try:
            for batch in rounds:
                copy = [(h, s, make_check(s, disks=("/", "/var"))) for h, s, _ in batch]
                accepted[i] += len(store_batch(engine=engine, pushed=copy, token_hash=token)[0])
        except BaseException as exc:  # reported below: a thread's exception is lost otherwise
            errors.append(exc)

    threads = [threading.Thread(target=push, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert sum(accepted) == 200 and _count(engine, checks) == 200 and _count(engine, check_disks) == 400
    with engine.connect() as conn:
        assert pushed_seq(conn=conn, host="web3") == 200


def test_a_batch_of_several_hosts_is_stored_for_each(engine: Engine) -> None:
    stored, duplicates = store_batch(
        engine=engine, pushed=_pushed("a1", [1, 2]) + _pushed("b1", [1]), token_hash=None
    )
    assert sorted((c.host, c.taken_at) for c in stored) == sorted(
        [("a1", make_check(1).taken_at), ("a1", make_check(2).taken_at), ("b1", make_check(1).taken_at)]
    )
    assert duplicates == 0
