"""Stop strings cut streamed text exactly where non-streamed text is cut."""

from lexitune.serve.stops import StopFilter


def _run(pieces, stops):
    f = StopFilter(stops)
    out = "".join(f.feed(p) for p in pieces)
    return out + ("" if f.stopped else f.flush()), f.stopped


def test_stop_split_across_pieces_is_never_sent():
    assert _run(["abc E", "N", "D more"], ["END"]) == ("abc ", True)


def test_held_back_prefix_is_released_when_it_is_not_a_stop():
    assert _run(["abc E", "Nx"], ["END"]) == ("abc ENx", False)


def test_earliest_of_several_stops_wins():
    assert _run(["one. two! three"], ["!", "."]) == ("one", True)


def test_no_stops_passes_everything():
    assert _run(["a", "b"], []) == ("ab", False)
