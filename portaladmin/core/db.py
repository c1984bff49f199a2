"""Database helpers shared by apps."""

from django.db import connections, router
from django.db.models import DateTimeField
from django.utils import timezone


def bulk_insert_values(model, rows: list[dict], *, batch_size: int = 1000) -> None:
    """INSERT rows of `model` given as {attname: value} dicts, in multi-row statements, no model instances.

    Same SQL and values as bulk_create, at a fraction of its Python cost for thousands of rows (bulk_create
    builds and prepares every field of every instance). Fields a row leaves out get their default; auto_now /
    auto_now_add fields get the current time. The primary key comes from the database; nothing is returned.
    Every row must have the same keys. No signals are sent (bulk_create sends none either).
    """
    if not rows:
        return
    db = connections[router.db_for_write(model)]
    now = timezone.now()
    given = rows[0].keys()
    # Columns the rows give first, then the others with their value prepared once for all rows.
    varying = [f for f in model._meta.concrete_fields if f.attname in given]
    fixed = [f for f in model._meta.concrete_fields if f.attname not in given and not f.primary_key]
    tail = []
    for field in fixed:
        if isinstance(field, DateTimeField) and (field.auto_now or field.auto_now_add):
            tail.append(field.get_db_prep_save(now, connection=db))
        else:
            tail.append(field.get_db_prep_save(field.get_default(), connection=db))
    fields = varying + fixed
    columns = ", ".join(db.ops.quote_name(f.column) for f in fields)
    one = "(" + ", ".join(["%s"] * len(fields)) + ")"
    size = max(1, min(batch_size, db.ops.bulk_batch_size(fields, rows)))
    # PostgreSQL: psycopg parses every placeholder of the query text in Python (21,000 for 1,000 job items);
    # like Django's own bulk_create there, send one typed array per column to UNNEST instead.
    unnest = db.vendor == "postgresql"
    if unnest:
        size = batch_size * 5
    table = db.ops.quote_name(model._meta.db_table)
    memo: dict[str, dict] = {field.attname: {} for field in varying}  # a value repeated on rows is prepared once

    def prepared(field, value):
        seen, key = memo[field.attname], (type(value), value)  # the type too: 1, 1.0 and True are equal keys
        try:
            return seen[key]
        except KeyError:
            seen[key] = result = field.get_db_prep_save(value, connection=db)
            return result
        except TypeError:  # unhashable (a JSON dict): prepared on every row
            return field.get_db_prep_save(value, connection=db)

    with db.cursor() as cursor:
        for start in range(0, len(rows), size):
            batch = rows[start:start + size]
            if unnest:  # one array per column: a short statement instead of thousands of placeholders
                # A column with the same value on every row (the defaults; an audit chunk's actor, connection,
                # action, job …) is one typed parameter, not an array of copies: psycopg dumps every array element.
                first = batch[0]
                select, scalars, arrays = [], [], []
                for field in varying:
                    name, cast = field.attname, field.db_type(db).split("(")[0]
                    if all(type(row[name]) is type(first[name]) and row[name] == first[name] for row in batch):
                        select.append(f"%s::{cast}")
                        scalars.append(prepared(field, first[name]))
                    else:
                        select.append(f"u.c{len(arrays)}")
                        arrays.append((f"(%s)::{cast}[]", [prepared(field, row[name]) for row in batch]))
                select += [f"%s::{field.db_type(db).split('(')[0]}" for field in fixed]
                if arrays:
                    source = "UNNEST({}) AS u({})".format(", ".join(sql for sql, _ in arrays),
                                                          ", ".join(f"c{i}" for i in range(len(arrays))))
                    tail_params = [values for _, values in arrays]
                else:  # every column the same: that row, once per row asked for
                    source, tail_params = "generate_series(1, %s)", [len(batch)]
                # Identifiers come from the model's meta (quoted); every value is a parameter (placeholders in
                # text order: the SELECT's constants, the defaults, then the FROM's arrays).
                cursor.execute(f"INSERT INTO {table} ({columns}) SELECT {', '.join(select)} FROM {source}",  # noqa: S608  # nosec B608
                               scalars + tail + tail_params)
            else:
                values = [[prepared(field, row[field.attname]) for field in varying] + tail for row in batch]
                cursor.execute(f"INSERT INTO {table} ({columns}) VALUES {', '.join([one] * len(batch))}",  # noqa: S608  # nosec B608
                               [value for row in values for value in row])


def marks(values) -> str:
    """`%s, %s, …`: one placeholder per value, for an IN (…) of a statement written as SQL."""
    return ", ".join(["%s"] * len(values))
