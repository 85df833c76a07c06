"""`deckgen sync --reviews`: the static site's exported reviews, written into a learner's Anki
collection.

The site's study session (templates/site/study.js, ts-fsrs) exports a progress file
(deckgen/schemas/progress.schema.json, docs/progress.md): per Anki card (card id and ordinal) its
FSRS state and its review log. This writes each review as a row of the collection's `revlog` and
leaves the card scheduled where the site left it: the exported state is the truth, not a
recomputation (ts-fsrs and the Python `fsrs` package differ in an edge case, and Anki's presets
may hold other FSRS parameters than the site's).

The safety steps are sync's (deckgen.sync): the same collection checks and opening, Anki's own
backup, one transaction. A dry run plans and writes nothing; --apply carries out that plan.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from deckgen.configfile import check_schema, load_schema, load_yaml_with_lines, plain
from deckgen.deckconfig import load_deck_info
from deckgen.errors import DeckgenError, Diagnostic, DiagnosticSink, Location
from deckgen.notetypes import note_guid
from deckgen.sync import anki_version, make_backup, open_collection, refuse

if TYPE_CHECKING:
    from anki.collection import Collection

CODE = "DG906"
SCHEMA = "progress"
MAX_PROGRESS_BYTES = 64 * 1024 * 1024
DAY = 86_400
# ts-fsrs's State -> Anki's card type (new, learning, review, relearning: the same numbers) and
# the revlog type of a review made in that state (0 learning, 1 review, 2 relearning).
REVLOG_TYPE = {0: 0, 1: 0, 2: 1, 3: 2}
NEW_EASE = 2500  # Anki's initial ease, 250 %: the factor of a card that graduates


def bad_file(where: Location, message: str) -> DeckgenError:
    return DeckgenError([Diagnostic(where, message, CODE)])


# --------------------------------------------------------------------------- the file


@dataclass(frozen=True)
class Review:
    rating: int
    time_ms: int  # when answered, ms since the epoch
    state: int  # the state before the answer
    duration_ms: int


@dataclass(frozen=True)
class StudiedCard:
    card: str
    ord: int
    state: dict[str, Any]
    reviews: tuple[Review, ...]


@dataclass(frozen=True)
class Progress:
    path: Path
    deck: str
    retention: float
    decay: float  # FSRS-6's w[20]
    learning_steps: int  # how many
    relearning_steps: int
    cards: tuple[StudiedCard, ...]


def epoch_ms(text: str) -> int:
    """An ISO 8601 UTC time (the schema's pattern) as milliseconds since the epoch."""
    when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return round(when.timestamp() * 1000)


def read_progress(path: Path, deck_id: str) -> Progress:
    """The progress file, checked against the committed schema and for this deck; refused
    (DG906, located) otherwise."""
    start = Location(path, 1, 1)
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise bad_file(start, f"cannot read the progress file: {error.strerror}") from None
    if len(raw) > MAX_PROGRESS_BYTES:
        raise bad_file(start, f"progress file over {MAX_PROGRESS_BYTES // 2**20} MiB")
    try:
        text = raw.decode("utf-8")
        data = json.loads(text)
    except UnicodeDecodeError:
        raise bad_file(start, "not a progress file: not UTF-8 text") from None
    except json.JSONDecodeError as error:
        where = Location(path, error.lineno, error.colno)
        raise bad_file(where, f"not a progress file: invalid JSON: {error.msg}") from None
    except RecursionError:
        raise bad_file(start, "not a progress file: JSON nested too deeply") from None
    if not isinstance(data, dict):
        raise bad_file(start, "not a progress file: not a JSON object")
    schema_problems(data, text, path)
    if data["deck"] != deck_id:
        raise bad_file(
            locate(text, path, ["deck"]),
            f"this progress file is of deck '{data['deck']}', not of deck '{deck_id}' (the "
            "deck in --cards): its reviews are of other cards",
        )
    cards = []
    seen: set[tuple[str, int]] = set()
    for index, entry in enumerate(data["cards"]):
        key = (entry["card"], entry["ord"])
        if key in seen:
            where = locate(text, path, ["cards", index])
            raise bad_file(where, f"card '{key[0]}' ord {key[1]} is in the file twice")
        seen.add(key)
        times = [
            ("state", "due"),
            *((("reviews", n, "review")) for n in range(len(entry["reviews"]))),
        ]
        for steps in times:
            value: Any = entry
            for step in steps:
                value = value[step]
            try:
                epoch_ms(value)
            except ValueError:
                where = locate(text, path, ["cards", index, *steps])
                raise bad_file(where, f"card '{key[0]}': no such time: {value}") from None
        if entry["reviews"] and entry["state"]["state"] == 0:
            where = locate(text, path, ["cards", index, "state", "state"])
            raise bad_file(where, f"card '{key[0]}': reviewed, yet its state is new (0)")
        reviews = tuple(
            Review(r["rating"], epoch_ms(r["review"]), r["state"], r["duration_ms"])
            for r in entry["reviews"]
        )
        for number, (one, two) in enumerate(itertools.pairwise(reviews), 1):
            if two.time_ms < one.time_ms:
                where = locate(text, path, ["cards", index, "reviews", number])
                raise bad_file(where, f"card '{key[0]}': the reviews are not oldest first")
        cards.append(StudiedCard(entry["card"], entry["ord"], entry["state"], reviews))
    parameters = data["scheduler"]["parameters"]
    return Progress(
        path=path,
        deck=data["deck"],
        retention=float(data["settings"]["request_retention"]),
        decay=float(parameters["w"][20]),
        learning_steps=len(parameters["learning_steps"]),
        relearning_steps=len(parameters["relearning_steps"]),
        cards=tuple(cards),
    )


def schema_problems(data: dict[str, Any], text: str, path: Path) -> None:
    """Refuse data that breaks progress.schema.json, each problem at its key: the messages come
    from the JSON read as YAML with lines (JSON is YAML), when that reads the same."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(load_schema(SCHEMA))
    errors = sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
    if not errors:
        return
    sink = DiagnosticSink()
    lined = load_yaml_with_lines(text, path, 1, DiagnosticSink(), CODE)
    if isinstance(lined, dict) and plain(lined) == data:
        check_schema(lined, SCHEMA, path, sink)
    found = [Diagnostic(d.location, d.message, CODE) for d in sink.items]
    if not found:  # read otherwise as YAML: the messages of jsonschema, at the file
        found = [
            Diagnostic(
                Location(path, 1, 1), f"{'/'.join(map(str, e.absolute_path))}: {e.message}", CODE
            )
            for e in errors
        ]
    raise DeckgenError(found)


def locate(text: str, path: Path, steps: Sequence[str | int]) -> Location:
    """Where the value at `steps` is written (the file's start if it cannot tell)."""
    from deckgen.configfile import key_location

    node = load_yaml_with_lines(text, path, 1, DiagnosticSink(), CODE)
    where = Location(path, 1, 1)
    for step in steps:
        if isinstance(node, dict) and isinstance(step, str) and step in node:
            where, node = key_location(node, step, path), node[step]
        elif isinstance(node, list) and isinstance(step, int) and step < len(node):
            node = node[step]
            if isinstance(node, dict):
                where = key_location(node, "", path)
        else:
            break
    return where


# --------------------------------------------------------------------------- the plan


@dataclass(frozen=True)
class Entry:
    """One revlog row."""

    id: int  # ms: the review time, moved on by 1 ms while another row has it
    ease: int
    ivl: int  # days, or negative seconds for a (re)learning step; 0 where the file has none
    last_ivl: int
    factor: int
    time: int  # ms
    type: int


@dataclass(frozen=True)
class Schedule:
    """The card as Anki's FSRS scheduler holds it after the reviews."""

    type: int
    queue: int
    due: int  # a day number for queues 2 and 3, epoch seconds for queue 1
    ivl: int
    factor: int
    reps: int
    lapses: int
    left: int
    stability: float
    difficulty: float
    retention: float
    decay: float
    last_review: int  # epoch seconds


@dataclass(frozen=True)
class CardReviews:
    card: str
    ord: int
    status: str  # see STATUSES
    anki_card: int | None = None
    entries: tuple[Entry, ...] = ()
    schedule: Schedule | None = None
    detail: str = ""


STATUSES = {
    "written": "reviews written and the card rescheduled",
    "imported": "already in the collection (an earlier sync): nothing to write",
    "reviewed in Anki": "reviewed in Anki after the first exported review: left alone",
    "not in collection": "no such card in the collection",
    "filtered deck": "in a filtered deck: empty it in Anki, then sync again",
    "no reviews": "studied without an answer",
}


@dataclass
class ReviewPlan:
    deck: str
    fsrs: bool  # the collection schedules with FSRS (Deck options → FSRS)
    cards: list[CardReviews] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(STATUSES, 0)
        for item in self.cards:
            counts[item.status] += 1
        return counts | {"reviews written": sum(len(i.entries) for i in self.writes)}

    @property
    def writes(self) -> list[CardReviews]:
        return [i for i in self.cards if i.status == "written"]

    @property
    def empty(self) -> bool:
        return not self.writes

    def document(self) -> dict[str, Any]:
        def card(item: CardReviews) -> dict[str, Any]:
            result: dict[str, Any] = {"card": item.card, "ord": item.ord, "status": item.status}
            if item.anki_card is not None:
                result["anki_card"] = item.anki_card
            if item.detail:
                result["detail"] = item.detail
            if item.status == "written":
                result["revlog"] = [asdict(e) for e in item.entries]
                result["schedule"] = asdict(item.schedule) if item.schedule else None
            return result

        return {
            "deck": self.deck,
            "fsrs": self.fsrs,
            "counts": self.counts(),
            "cards": [card(i) for i in self.cards],
        }


@dataclass(frozen=True)
class Day:
    """Anki's days: today's number and when tomorrow starts (the collection's rollover hour)."""

    today: int
    cutoff: int  # epoch seconds

    def of(self, seconds: float) -> int:
        """The day number of a time."""
        return self.today + math.floor((seconds - (self.cutoff - DAY)) / DAY)


def make_review_plan(col: Collection, progress: Progress, deck_id: str) -> ReviewPlan:
    """What the sync writes for each card in the file, read from the collection. Pure apart
    from reading: the dry run prints it, --apply writes exactly it."""
    assert col.db is not None
    db = col.db
    day = Day(col.sched.today, col.sched.day_cutoff)
    plan = ReviewPlan(progress.deck, bool(col.get_config("fsrs", False)))
    taken: set[int] = set()  # revlog ids this plan writes
    for studied in progress.cards:
        guid = note_guid(deck_id, studied.card)
        row = db.first(
            "select c.id, c.odid, c.queue, c.factor, c.ivl from cards c join notes n on "
            "c.nid = n.id where n.guid = ? and c.ord = ?",
            guid,
            studied.ord,
        )
        item = CardReviews(studied.card, studied.ord, "not in collection")
        if row is None:
            plan.cards.append(item)
            continue
        cid, odid, queue, factor, ivl = row
        item = CardReviews(studied.card, studied.ord, "no reviews", anki_card=cid)
        if not studied.reviews:
            plan.cards.append(item)
            continue
        if odid:
            plan.cards.append(CardReviews(studied.card, studied.ord, "filtered deck", cid))
            continue
        existing: dict[int, int] = {
            int(i): int(ease)
            for i, ease in db.all("select id, ease from revlog where cid = ?", cid)
        }
        logged = _logged(studied.reviews, existing)
        fresh = [r for r in studied.reviews if r not in logged]
        first = studied.reviews[0].time_ms
        ours = set(logged.values())
        later = sorted(i for i in existing if i >= first and i not in ours)
        if later:
            when = datetime.fromtimestamp(later[-1] / 1000, UTC).strftime("%Y-%m-%d %H:%M UTC")
            detail = f"last reviewed in Anki {when}"
            plan.cards.append(
                CardReviews(studied.card, studied.ord, "reviewed in Anki", cid, detail=detail)
            )
            continue
        if not fresh:
            plan.cards.append(CardReviews(studied.card, studied.ord, "imported", cid))
            continue
        entries = _entries(db, studied, fresh, ivl if not existing else _last_ivl(db, cid), taken)
        schedule = _schedule(studied, progress, day, queue, factor, ivl)
        plan.cards.append(CardReviews(studied.card, studied.ord, "written", cid, entries, schedule))
    return plan


def _logged(reviews: Sequence[Review], existing: Mapping[int, int]) -> dict[Review, int]:
    """The reviews the card's revlog already has, with their row's id: same ease, at the
    review's ms or the few ms later a collision moved it to; each row matches one review."""
    found: dict[Review, int] = {}
    for review in reviews:
        for moved in range(COLLISION_WINDOW):
            row = review.time_ms + moved
            if existing.get(row) == review.rating and row not in found.values():
                found[review] = row
                break
    return found


COLLISION_WINDOW = 50  # ms: how far a revlog id may be moved on past another row's


def _last_ivl(db: Any, cid: int) -> int:
    last = db.scalar("select ivl from revlog where cid = ? order by id desc limit 1", cid)
    return int(last or 0)


def _entries(
    db: Any, studied: StudiedCard, fresh: Sequence[Review], last_ivl: int, taken: set[int]
) -> tuple[Entry, ...]:
    """The revlog rows of the reviews not yet logged. The interval after a review is known only
    for the last one (from the exported state); the file does not hold the others (0)."""
    result = []
    final = studied.reviews[-1]
    for review in fresh:
        revlog_id = review.time_ms
        while revlog_id in taken or db.scalar("select 1 from revlog where id = ?", revlog_id):
            revlog_id += 1  # as Anki does when two rows would share a millisecond
        if revlog_id - review.time_ms >= COLLISION_WINDOW:
            raise DeckgenError(
                [
                    Diagnostic(
                        Location(Path("revlog")),
                        f"card '{studied.card}': {COLLISION_WINDOW} revlog rows follow "
                        f"{review.time_ms}: no id left for its review",
                        "DG905",
                    )
                ]
            )
        taken.add(revlog_id)
        ivl = _interval_after(studied.state, final.time_ms) if review is final else 0
        result.append(
            Entry(
                id=revlog_id,
                ease=review.rating,
                ivl=ivl,
                last_ivl=last_ivl,
                factor=0,
                time=review.duration_ms,
                type=REVLOG_TYPE[review.state],
            )
        )
        last_ivl = ivl
    return tuple(result)


def _interval_after(state: Mapping[str, Any], reviewed_ms: int) -> int:
    """Anki's revlog interval after the last review: days for a review card, negative seconds
    until the step's due for a (re)learning one."""
    if state["state"] == 2:
        return int(state["scheduled_days"])
    return -max(0, round((epoch_ms(state["due"]) - reviewed_ms) / 1000))


def _schedule(
    studied: StudiedCard, progress: Progress, day: Day, queue: int, factor: int, ivl: int
) -> Schedule:
    state = studied.state
    kind = int(state["state"])
    due_s = epoch_ms(state["due"]) / 1000
    last_s = studied.reviews[-1].time_ms // 1000
    if kind == 2:
        new_queue, due, new_ivl = 2, day.of(due_s), int(state["scheduled_days"])
        steps_left = 0
    else:
        intraday = day.of(due_s) == day.of(last_s)
        new_queue = 1 if intraday else 3
        due = math.floor(due_s) if intraday else day.of(due_s)
        steps = progress.learning_steps if kind == 1 else progress.relearning_steps
        steps_left = max(0, steps - int(state["learning_steps"]))
        new_ivl = 0 if kind == 1 else max(1, ivl)
    return Schedule(
        type=kind,
        queue=queue if queue < 0 else new_queue,  # a suspended or buried card stays so
        due=due,
        ivl=new_ivl,
        factor=(factor or NEW_EASE) if kind != 1 else factor,
        reps=int(state["reps"]),
        lapses=int(state["lapses"]),
        left=steps_left,
        stability=float(state["stability"]),
        difficulty=float(state["difficulty"]),
        retention=progress.retention,
        decay=progress.decay,
        last_review=last_s,
    )


# --------------------------------------------------------------------------- sync


@dataclass(frozen=True)
class ReviewsResult:
    plan: ReviewPlan
    collection: Path
    backup: Path | None
    applied: bool


def sync_reviews(
    cards_dir: Path, collection: Path, progress_file: Path, *, apply: bool = False
) -> ReviewsResult:
    """Plan writing the progress file's reviews into `collection`; with `apply`, back up and
    write them in one transaction."""
    anki_version()
    sink = DiagnosticSink()
    info = load_deck_info(cards_dir, sink)
    sink.raise_if_errors()
    progress = read_progress(progress_file, info.id)
    if not collection.is_file():
        raise refuse(collection, "no such collection file")
    with open_collection(collection) as col:
        plan = make_review_plan(col, progress, info.id)
        if not apply or plan.empty:
            return ReviewsResult(plan, collection, None, False)
        backup = make_backup(col, collection)
        from anki.errors import AnkiException

        try:
            apply_reviews(col, plan)
        except AnkiException as error:
            raise refuse(
                collection,
                f"Anki refused the reviews ({type(error).__name__}: {error}); rolled back "
                f"whole, the collection is as before (backup: {backup})",
            ) from error
    return ReviewsResult(plan, collection, backup, True)


def apply_reviews(col: Collection, plan: ReviewPlan) -> None:
    """Write the planned revlog rows and schedules in one database transaction."""
    from anki.cards import CardId, FSRSMemoryState

    assert col.db is not None
    db = col.db

    def work() -> None:
        for item in plan.writes:
            assert item.anki_card is not None and item.schedule is not None
            for e in item.entries:
                db.execute(
                    "insert into revlog (id, cid, usn, ease, ivl, lastIvl, factor, time, type) "
                    "values (?, ?, -1, ?, ?, ?, ?, ?, ?)",
                    e.id,
                    item.anki_card,
                    e.ease,
                    e.ivl,
                    e.last_ivl,
                    e.factor,
                    e.time,
                    e.type,
                )
            s = item.schedule
            card = col.get_card(CardId(item.anki_card))
            card.type, card.queue, card.due, card.ivl = s.type, s.queue, s.due, s.ivl  # type: ignore[assignment]
            card.factor, card.reps, card.lapses, card.left = s.factor, s.reps, s.lapses, s.left
            card.odue = 0
            card.memory_state = FSRSMemoryState(stability=s.stability, difficulty=s.difficulty)
            card.desired_retention = s.retention
            card.decay = s.decay
            card.last_review_time = s.last_review
            col.update_card(card)

    db.transact(work)
