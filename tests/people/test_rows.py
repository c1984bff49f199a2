"""The bulk-invite parser: every bad input of the issue gets a per-row (or whole-file) message."""

import time

import pytest

from portaladmin.people.rows import MAX_ROWS, InputError, group_index, parse_text, parse_upload

GROUPS = {"Demo": group_index([{"uid": "analysts", "title": "Data Analysts"}, {"uid": "editors", "title": "Editors"}])}


def reasons(result):
    return {row.line: " ".join(row.errors) for row in result.rejected_rows}


def test_one_email_per_line_with_empty_lines_skipped():
    result = parse_text("ana@example.org\n\n   \nben@example.org\n", known_groups=GROUPS)
    assert result.source == "emails"
    assert [r.email for r in result.valid_rows] == ["ana@example.org", "ben@example.org"]
    assert [r.line for r in result.valid_rows] == [1, 4]
    assert result.skipped_lines == 2
    assert result.valid_rows[0].payload == {"email": "ana@example.org"}


def test_invalid_emails_are_rejected_per_row():
    result = parse_text("ok@example.org\nnot-an-email\nbad@\n@example.org\nsp ace@example.org\n")
    assert [r.email for r in result.valid_rows] == ["ok@example.org"]
    assert set(reasons(result)) == {2, 3, 4, 5}
    assert "not a valid e-mail address" in reasons(result)[2]


def test_duplicates_are_case_insensitive_and_point_to_the_first_line():
    result = parse_text("Ana@Example.org\nben@example.org\nana@example.ORG\n")
    assert [r.email for r in result.valid_rows] == ["Ana@Example.org", "ben@example.org"]
    assert reasons(result) == {3: "Duplicate of line 1 (addresses are compared without case)."}


def test_csv_with_header_maps_columns_and_resolves_groups_by_uid_or_title():
    text = ("email,first_name,last_name,groups,permissions\n"
            "ana@example.org,Ana,Lima,analysts|Editors,edit_dataset\n"
            "ben@example.org,Ben,,,\n")
    result = parse_text(text, known_groups=GROUPS)
    assert result.source == "csv" and result.delimiter == ","
    assert not result.rejected_rows
    assert result.valid_rows[0].payload == {
        "email": "ana@example.org", "first_name": "Ana", "last_name": "Lima",
        "groups": [{"uid": "analysts"}, {"uid": "editors"}], "permissions": ["edit_dataset"]}
    assert result.valid_rows[1].payload == {"email": "ben@example.org", "first_name": "Ben"}


def test_semicolon_is_sniffed_and_quoted_lists_are_split():
    text = 'email;groups;permissions\nana@example.org;"analysts;editors";"edit_dataset,publish_dataset"\n'
    result = parse_text(text, known_groups=GROUPS)
    assert result.delimiter == ";"
    row = result.valid_rows[0]
    assert row.groups == ["analysts", "editors"] and row.permissions == ["edit_dataset", "publish_dataset"]


def test_bom_is_accepted_in_uploads_and_pastes():
    data = "\ufeffemail,first_name\nana@example.org,Ana\n".encode()
    assert [r.email for r in parse_upload(data).valid_rows] == ["ana@example.org"]
    assert [r.email for r in parse_text("\ufeffemail\nben@example.org\n").valid_rows] == ["ben@example.org"]


def test_wrong_encoding_is_a_clear_whole_file_error():
    data = "email,first_name\nzoé@example.org,Zoé\n".encode("latin-1")
    with pytest.raises(InputError, match="not UTF-8.*line 2.*CSV UTF-8"):
        parse_upload(data)


def test_utf16_is_refused_too():
    with pytest.raises(InputError):
        parse_upload("email\nana@example.org\n".encode("utf-16"))


def test_missing_email_column_is_refused():
    with pytest.raises(InputError, match="Missing column.*email"):
        parse_text("first_name,last_name\nAna,Lima\n")


def test_unknown_extra_column_in_the_header_is_refused():
    with pytest.raises(InputError, match="Unknown column.*phone"):
        parse_text("email,phone\nana@example.org,123\n")


def test_rows_with_extra_or_missing_values_are_rejected_per_row():
    text = ("email,first_name,last_name\n"
            "ana@example.org,Ana,Lima\n"
            "ben@example.org,Ben,Ba,extra\n"
            "cid@example.org,Cid\n")
    result = parse_text(text)
    assert [r.email for r in result.valid_rows] == ["ana@example.org"]
    assert "1 value(s) more than the 3 columns" in reasons(result)[3]
    assert "Missing value(s) for last_name" in reasons(result)[4]


def test_lines_with_only_delimiters_are_empty_lines():
    result = parse_text("email;first_name\n;\nana@example.org;Ana\n;;\n")
    assert len(result.rows) == 1 and result.skipped_lines == 2


def test_unknown_group_and_unknown_permission_are_rejected_per_row():
    text = "email,groups,permissions\nana@example.org,ghosts,edit_dataset\nben@example.org,,fly\n"
    result = parse_text(text, known_groups=GROUPS)
    assert reasons(result) == {2: "Unknown group “ghosts”.", 3: "Unknown permission(s): fly."}


def test_a_group_must_exist_on_every_target_connection():
    known = {"A": group_index([{"uid": "analysts", "title": "Analysts"}]), "B": group_index([])}
    result = parse_text("email,groups\nana@example.org,analysts\n", known_groups=known)
    assert reasons(result) == {2: "Unknown group “analysts” on B."}


def test_headerless_csv_text_asks_for_a_header():
    with pytest.raises(InputError, match="header"):
        parse_text("ana@example.org,Ana,Lima\n")


def test_empty_input_is_refused():
    with pytest.raises(InputError, match="empty"):
        parse_text("\n \n")


def test_ten_thousand_rows_are_handled_quickly():
    text = "email;first_name;groups\n" + "".join(f"user{i}@example.org;U{i};analysts\n" for i in range(10_000))
    started = time.perf_counter()
    result = parse_upload(text.encode("utf-8-sig"), known_groups=GROUPS)
    elapsed = time.perf_counter() - started
    assert len(result.valid_rows) == 10_000 and not result.rejected_rows
    assert result.valid_rows[-1].line == 10_001
    assert elapsed < 5  # generous: a regression to quadratic behaviour would take minutes


def test_more_than_the_maximum_is_refused():
    text = "".join(f"u{i}@example.org\n" for i in range(MAX_ROWS + 1))
    with pytest.raises(InputError, match="Too many rows"):
        parse_text(text)


def test_names_that_are_too_long_are_rejected():
    result = parse_text("email,first_name\nana@example.org," + "x" * 151 + "\n")
    assert "longer than 150" in reasons(result)[2]
