"""Reads for the fleet pages: the overview cards, the watchdog, the boards and the person look-up.

Everything except person_lookup() reads the local database only (catalogue snapshots, harvester snapshots,
jobs, audit): the overview refreshes every 15 s and must never wait for a portal.
"""

from portaladmin.fleet.selectors.boards import (  # noqa: F401
    BOARD_FIELDS,
    COUNT_CAP,
    HEALTH_FILTERS,
    SEARCH_CAP,
    BoardPage,
    ErrorGroup,
    board_count,
    board_knowledge,
    fleet_dataset_page,
    fleet_datasets,
    fleet_harvesters,
    harvester_error_groups,
    harvester_refresh_states,
)
from portaladmin.fleet.selectors.charts import (  # noqa: F401
    DATASET_STATUS_GROUPS,
    JOB_OUTCOME_GROUPS,
    dataset_status_chart,
    harvester_runs_chart,
    job_timeline_chart,
    jobs_per_day_chart,
    publish_duration_chart,
)
from portaladmin.fleet.selectors.overview import (  # noqa: F401
    JOB_FAILED,
    JOB_FIGURES,
    Card,
    Figure,
    Watchdog,
    dataset_figures,
    dataset_list_url,
    harvester_board_url,
    harvester_figures,
    job_figures,
    jobs_list_url,
    last_events,
    overview_cards,
    watchdog,
    watchdog_minutes,
)
from portaladmin.fleet.selectors.people import PersonMatch, PersonResult, person_lookup  # noqa: F401
