// The chat page: both models answer, streamed into their boxes. Everything else is htmx.
"use strict";

async function streamInto(box, params) {
  const response = await fetch("/chat/stream?" + new URLSearchParams(params));
  if (!response.ok) {
    box.textContent = "[error " + response.status + "] " + (await response.text());
    box.classList.add("failed");
    return;
  }
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    box.textContent += decoder.decode(value, { stream: true });
  }
  box.classList.add("done");
}

async function ask(question, kind) {
  const form = document.getElementById("chat");
  const exchange = document.getElementById("exchange").content.cloneNode(true);
  exchange.querySelector(".q").textContent = question;
  exchange.querySelector(".kind").textContent = kind ? kind + ":" : "";
  const section = exchange.querySelector("section");
  document.getElementById("answers").prepend(exchange);
  const params = { run: form.run.value, q: question, routing: form.routing.checked ? "on" : "off" };
  // One after the other: the machine holds one model, and the base is the tuned model with its adapter off.
  await streamInto(section.querySelector(".base"), { ...params, side: "base" });
  await streamInto(section.querySelector(".tuned"), { ...params, side: "tuned" });
  section.classList.add("answered");
}

document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("chat");
  if (!form) return;
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    ask(form.q.value, "");
  });
  document.getElementById("traps").addEventListener("click", async () => {
    const response = await fetch("/chat/traps?" + new URLSearchParams({ run: form.run.value }));
    const { questions } = await response.json();
    for (const trap of questions) await ask(trap.question, trap.kind);
  });
  form.run.addEventListener("change", () => { window.location = "/chat?run=" + encodeURIComponent(form.run.value); });
});
