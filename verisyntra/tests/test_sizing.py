"""The measured pool-size recommendation (verisyntra/db/sizing.py) and the advice pool_report quotes."""

from verisyntra.db.sizing import measured_advice, recommended_pools


def test_write_pool_is_about_two_connections_per_core_shared_by_web_processes():
    assert recommended_pools(server_cores=2, web_processes=1, web_threads=80).write_pool_size == 4
    assert recommended_pools(server_cores=2, web_processes=2, web_threads=80).write_pool_size == 2
    assert recommended_pools(server_cores=1, web_processes=4, web_threads=8).write_pool_size == 1


def test_read_capacity_covers_every_thread_and_write_overflow_is_zero():
    recommendation = recommended_pools(server_cores=8, web_processes=2, web_threads=64)
    assert recommendation.read_capacity == 64
    assert recommendation.write_max_overflow == 0


def test_default_write_pool_of_50_plus_20_gets_bilingual_advice_to_shrink():
    advice = measured_advice(server_cores=2, web_processes=1, web_threads=8, read_capacity=30, write_capacity=70)
    assert len(advice) == 1
    english, vietnamese = advice[0]
    assert "WRITE_POOL_SIZE=4" in english and "WRITE_POOL_MAX_OVERFLOW=0" in english
    assert "giữ bảng điều khiển nhanh" in vietnamese


def test_read_pool_smaller_than_threads_gets_advice_and_right_sizes_get_none():
    advice = measured_advice(server_cores=2, web_processes=1, web_threads=80, read_capacity=30, write_capacity=4)
    assert len(advice) == 1 and "READ_POOL_SIZE + READ_POOL_MAX_OVERFLOW >= 80" in advice[0][0]
    assert measured_advice(server_cores=2, web_processes=1, web_threads=80, read_capacity=80, write_capacity=4) == []
