"""A small OpenAI-compatible chat server that plays an LLM, for tests: real HTTP on 127.0.0.1.

    python tests/fake_openai.py        # serves the culinary glossary on a free port until Ctrl-C

It answers `/v1/chat/completions` the way a model asked by lexitune would: a generation prompt
gets N conversations about the term whose definition appears in the prompt (questions naming the
term, answers containing the definition, phrased differently on every request); a judge prompt
gets `{"verdict", "explanation"}` decided by fuzzy matching of answer and expected definition.

Faults are scripted per key (a term, "judge", or "*" for any request), consumed in order:
ok, prose, python, schema, roles, missing_definition, no_term, duplicates, 429, 500, timeout,
drop, hang. Every request is recorded (key, fault, body, answered) so tests count them server-side.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

QUESTIONS = {
    "fr": [
        "Que signifie {t} ?",
        "Bonjour, pouvez-vous me dire ce que veut dire le sigle {t} ?",
        "{t}, c'est quoi ?",
        "Dans le menu de l'école, je vois {t}. Ça veut dire quoi ?",
        "Tu peux m'expliquer {t} ?",
        "J'ai entendu {t} en cuisine, de quoi s'agit-il ?",
        "Quelle est la définition de {t} ?",
        "Petite question : {t}, ça correspond à quoi ?",
        "Je débute : que désigne {t} exactement ?",
        "Le chef a parlé de {t} ce matin, tu sais ce que c'est ?",
        "Explique-moi l'acronyme {t}, s'il te plaît.",
        "Sur mon planning il y a écrit {t}. C'est quoi au juste ?",
    ],
    "en": [
        "What does {t} stand for?",
        "Hi! Could you tell me what {t} means?",
        "{t}? what's that",
        "I saw {t} in our onboarding notes. What is it?",
        "Can you explain the acronym {t}?",
        "My manager mentioned {t} today, what does it mean?",
        "What's the definition of {t}?",
        "Quick one: what is {t} short for?",
        "I'm new here. What exactly is {t}?",
        "Someone wrote {t} in a ticket, any idea what it means?",
        "Please expand {t} for me.",
        "What do people mean by {t}?",
    ],
}
ANSWERS = {
    "fr": [
        "{t} signifie « {d} ».",
        "Bien sûr ! {t} veut dire {d}.",
        "C'est l'acronyme de {d}.",
        "{t} : {d}. C'est un terme de l'école.",
        "Il s'agit de {d} ({t}).",
        "{t} désigne {d}.",
    ],
    "en": [
        "{t} stands for {d}.",
        "Sure! {t} means {d}.",
        "It's short for {d}.",
        "{t}: {d}, a term used here.",
        "That would be {d} ({t}).",
        "{t} refers to {d}.",
    ],
}


def culinary(n: int = 15) -> dict[str, str]:
    """The first `n` terms of the shipped culinary example, as {term: definition}."""
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "examples" / "culinary-fr" / "glossary.json"
    return {t["acronym"]: t["definition"] for t in json.loads(path.read_text(encoding="utf-8"))[:n]}


def _norm(text: str) -> str:
    from lexitune.evaluate.metrics import normalize

    return normalize(text)


class FakeLLM:
    """Start with `with FakeLLM({"TEC": "Techniques ..."}) as llm:` and point lexitune at `llm.url`."""

    def __init__(self, glossary: dict[str, str], language: str = "fr", *, timeout_sleep: float = 2.0):
        self.glossary = glossary
        self.language = language
        self.timeout_sleep = timeout_sleep
        self.faults: dict[str, list[str]] = {}
        self.reject_json_schema = False
        self.reject_json_schema_status = 400
        self.requests: list[dict] = []
        self._lock = threading.Lock()
        self._release = threading.Event()
        self._server: ThreadingHTTPServer | None = None

    # -- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> FakeLLM:
        handler = type("Handler", (_Handler,), {"llm": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._server.block_on_close = False
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        self._release.set()  # let hanging handlers finish
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> FakeLLM:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    # -- what the tests look at --------------------------------------------------------------------
    def answered(self, key: str | None = None) -> list[dict]:
        return [r for r in self.requests if r["answered"] and (key is None or r["key"] == key)]

    def received(self, key: str | None = None) -> list[dict]:
        return [r for r in self.requests if key is None or r["key"] == key]

    # -- playing the LLM ---------------------------------------------------------------------------
    def key_of(self, body: dict) -> str:
        text = "\n".join(str(m.get("content", "")) for m in body.get("messages", []))
        if "verdict" in text.lower():
            return "judge"
        # The term whose definition the prompt quotes (the longest match, so "TEC" never shadows "TECH").
        found = [t for t, d in self.glossary.items() if _norm(d) in _norm(text)]
        return max(found, key=lambda t: len(self.glossary[t])) if found else "?"

    def next_fault(self, key: str) -> str:
        with self._lock:
            for k in (key, "*"):
                if self.faults.get(k):
                    return self.faults[k].pop(0)
        return "ok"

    def conversations(self, term: str, n: int, fault: str, seq: int) -> list[dict]:
        lang, d = self.language, self.glossary.get(term, "")
        out = []
        for i in range(n):
            q = QUESTIONS[lang][(seq * n + i) % len(QUESTIONS[lang])].format(t=term)
            a = ANSWERS[lang][(seq + i) % len(ANSWERS[lang])].format(t=term, d=d)
            if fault == "missing_definition":  # a model that paraphrases instead of quoting
                a = (
                    f"{term} est une notion enseignée à l'école."
                    if lang == "fr"
                    else f"{term} is a notion taught here."
                )
            if fault == "no_term":
                q = "Et ça, ça veut dire quoi ?" if lang == "fr" else "And what does that mean?"
            if fault == "duplicates":
                q = QUESTIONS[lang][0].format(t=term)
            msgs = [{"role": "user", "content": q}, {"role": "assistant", "content": a}]
            if fault == "roles":
                msgs = msgs[::-1]
            out.append({"messages": msgs})
        if fault == "schema":  # valid JSON, wrong shape: the keys a sloppy model might invent
            return [{"q": c["messages"][0]["content"], "reply": c["messages"][1]["content"]} for c in out]
        return out

    def verdict(self, text: str) -> dict:
        from rapidfuzz import fuzz

        expected = re.search(r"Expected definition: (.*)", text)
        answer = re.search(r"Answer: (.*)", text, re.DOTALL)
        e, a = (_norm(m.group(1)) if m else "" for m in (expected, answer))
        # Fuzzy, like a lenient human grader: it forgives a typo that exact recall does not.
        # (partial matching only where the answer is long enough to hold the definition, or "TEC ?" would pass)
        ok = bool(e) and len(a) >= len(e) and fuzz.partial_ratio(e, a) >= 85
        why = "The answer gives the expected meaning." if ok else "The answer does not give the expected meaning."
        return {"verdict": int(ok), "explanation": why}

    def reply_text(self, body: dict, key: str, fault: str, seq: int) -> str:
        prompt = str(body["messages"][-1]["content"])
        if key == "judge":
            payload: object = self.verdict(prompt)
        else:
            n = int(re.search(r"\d+", prompt).group(0))
            payload = {"conversations": self.conversations(key, n, fault, seq)}
        text = json.dumps(payload, ensure_ascii=False)
        if fault == "prose":
            return f"Voici ce que vous avez demandé :\n```json\n{text}\n```\nN'hésitez pas si besoin !"
        if fault == "python":  # the single-quoted style of the course's own prompt
            return "Here you go: " + repr(payload)
        return text


class _Handler(BaseHTTPRequestHandler):
    llm: FakeLLM
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:  # keep pytest output clean
        pass

    def _send(self, status: int, payload: dict, headers: dict | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        if self.path.rstrip("/").endswith("/models"):
            self._send(200, {"object": "list", "data": [{"id": "fake-llm", "object": "model", "owned_by": "tests"}]})
        else:
            self._send(404, {"error": {"message": "not found"}})

    def do_POST(self) -> None:
        llm = self.llm
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        key = llm.key_of(body)
        rejected = (body.get("response_format") or {}).get("type") == "json_schema" and llm.reject_json_schema
        # A rejected request never reached the "model", so it consumes no scripted fault.
        fault = "rejected" if rejected else llm.next_fault(key)
        record = {
            "key": key,
            "fault": fault,
            "body": body,
            "answered": False,
            "time": time.monotonic(),
            "auth": self.headers.get("Authorization"),
        }
        with llm._lock:
            record["seq"] = sum(r["key"] == key for r in llm.requests)
            llm.requests.append(record)
        if rejected:  # an older server: JSON mode yes, JSON schema no (llama-cpp-python says so with a 500)
            self._send(
                llm.reject_json_schema_status,
                {
                    "error": {
                        "message": "response_format type json_schema is not supported",
                        "type": "invalid_request_error",
                    }
                },
            )
            return
        if fault == "429":
            self._send(429, {"error": {"message": "rate limited", "type": "rate_limit"}}, {"Retry-After": "1"})
            return
        if fault == "500":
            self._send(500, {"error": {"message": "internal error"}})
            return
        if fault == "drop":  # the connection dies before any reply
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if fault in ("timeout", "hang"):
            llm._release.wait(llm.timeout_sleep if fault == "timeout" else 60)
            if fault == "hang":
                self.close_connection = True
                return
        text = llm.reply_text(body, key, fault, record["seq"])
        try:
            self._send(
                200,
                {
                    "id": f"chatcmpl-{len(llm.requests)}",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": body.get("model", "fake-llm"),
                    "choices": [
                        {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
                    ],
                    "usage": {
                        "prompt_tokens": len(json.dumps(body["messages"])) // 4,
                        "completion_tokens": len(text) // 4,
                        "total_tokens": (len(json.dumps(body["messages"])) + len(text)) // 4,
                    },
                },
            )
            record["reply"] = text
            record["answered"] = fault != "timeout"  # a late reply reaches a client that already gave up
        except (BrokenPipeError, ConnectionResetError):
            pass


if __name__ == "__main__":
    with FakeLLM(culinary()) as fake:
        print(fake.url, flush=True)
        threading.Event().wait()
