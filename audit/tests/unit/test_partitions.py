from datetime import date

from audit.partitions import months_wanted, partition_name


def test_partitions_run_from_last_month_a_year_ahead_across_year_ends():
    months = months_wanted(date(2026, 1, 15), ahead=12)
    assert months[0] == date(2025, 12, 1)
    assert months[1] == date(2026, 1, 1)
    assert months[-1] == date(2027, 1, 1)
    assert len(months) == 14


def test_partition_names_sort_by_month():
    assert partition_name(date(2026, 3, 1)) == "audit_accessevent_y2026m03"
