"""Replay data never contains a glossary term; it is the base model's own answers."""

from lexitune.glossary.term import Term
from lexitune.rundir import RunDir
from lexitune.train.replay import build_replay, mentions, replay_conversations, replay_prompts

# Terms that collide with words of the shipped prompts ("capital", "tea", "DVD") and must filter them.
TERMS = [Term(term="DVD", definition="x"), Term(term="TEA", definition="y", aliases=["Capital"])]


def test_mentions_is_case_insensitive_and_word_bounded():
    assert mentions("What is the capital of Canada?", TERMS)
    assert mentions("What does dvd stand for?", TERMS)
    assert not mentions("Name a team of three.", TERMS)  # "tea" inside "team" is not the term


def test_replay_prompts_drop_glossary_terms():
    prompts = replay_prompts(TERMS)
    assert prompts and len(prompts) < len(replay_prompts([]))
    assert not any(mentions(p, TERMS) for p in prompts)


def test_build_replay_drops_answers_naming_terms_and_cuts_unfinished_sentences():
    prompts = ["Name three fruits.", "What is 2 + 2?", "Say hi."]
    answers = ["Apples, pears and a DVD.", "2 + 2 is 4. It is a small number and", ""]
    replay = build_replay(prompts, answers, TERMS, 4, [{"role": "system", "content": "S"}])
    assert [c.answer for c in replay] == ["2 + 2 is 4."] * 4  # one usable pair, cycled
    assert replay[0].messages[0].content == "S" and replay[0].question == "What is 2 + 2?"


def test_replay_conversations_are_the_base_models_answers_cached_in_the_run(tiny_config, tiny_base, tmp_path):
    from lexitune.inference.generation import answer_questions

    tiny_config.train.replay_ratio = 0.5
    tiny_config.train.replay_max_new_tokens = 8
    run = RunDir(tmp_path / "run")
    model, tokenizer = tiny_base
    replay = replay_conversations(model, tokenizer, tiny_config, run, TERMS, n_glossary=20)
    # The random tiny model's answers are empty, and empty answers are never trained on.
    base = answer_questions(
        model, tokenizer, [[{"role": "user", "content": p}] for p in replay_prompts(TERMS)[:3]], max_new_tokens=8
    )
    assert len(replay) == (10 if any(base) else 0)
    assert not any(mentions(m.content, TERMS) for c in replay for m in c.messages)
    assert (run.data / "replay.jsonl").exists()


def test_self_written_prompts_are_shared_by_runs_of_the_same_model_glossary_and_seed(
    tiny_config, tiny_base, tmp_path, monkeypatch
):
    import lexitune.train.replay as replay

    monkeypatch.setenv("LEXITUNE_CACHE", str(tmp_path / "cache"))
    written = []

    def counting(*args, **kwargs):
        written.append(kwargs["seed"])
        return [f"Who wrote book number {i}?" for i in range(args[2])]

    monkeypatch.setattr(replay, "self_prompts", counting)
    tiny_config.train.replay_ratio = 5.0  # past the 70 shipped prompts: the model writes the rest
    tiny_config.train.replay_max_new_tokens = 4
    model, tokenizer = tiny_base
    first = replay.replay_conversations(model, tokenizer, tiny_config, RunDir(tmp_path / "a"), TERMS, n_glossary=20)
    second = replay.replay_conversations(model, tokenizer, tiny_config, RunDir(tmp_path / "b"), TERMS, n_glossary=20)
    assert written == [tiny_config.seed]  # the second run found them
    assert [c.question for c in first] == [c.question for c in second]
    tiny_config.seed += 1
    replay.replay_conversations(model, tokenizer, tiny_config, RunDir(tmp_path / "c"), TERMS, n_glossary=20)
    assert written == [tiny_config.seed - 1, tiny_config.seed]  # another seed samples anew
    monkeypatch.setenv("LEXITUNE_SHARED_CACHE", "0")
    replay.replay_conversations(model, tokenizer, tiny_config, RunDir(tmp_path / "d"), TERMS, n_glossary=20)
    assert len(written) == 3
