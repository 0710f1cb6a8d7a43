// Suggestions as one types in the search box: the last word typed is completed from the words
// and phrases of the documents (GET /api/suggest), most frequent first. Arrow keys move through
// them, Enter or a click searches with the one chosen, Escape closes them. Without this script
// the box is a plain search box.
"use strict";

(function () {
  const WAIT_MS = 120; // after the last key, before asking
  const box = document.getElementById("q");
  const list = document.getElementById("suggestions");
  if (!box || !list || !window.fetch) return;
  const form = box.form;
  let timer = 0;
  let asked = 0; // the number of the latest request: older answers are dropped
  let chosen = -1;

  box.setAttribute("role", "combobox");
  box.setAttribute("aria-autocomplete", "list");
  box.setAttribute("aria-controls", list.id);
  box.setAttribute("aria-expanded", "false");

  function lastWord(text) {
    const at = Math.max(text.lastIndexOf(" "), text.lastIndexOf("\u3000"));
    return { before: text.slice(0, at + 1), word: text.slice(at + 1) };
  }

  function close() {
    list.hidden = true;
    list.replaceChildren();
    chosen = -1;
    box.setAttribute("aria-expanded", "false");
    box.removeAttribute("aria-activedescendant");
  }

  function show(suggestions, before) {
    list.replaceChildren();
    chosen = -1;
    suggestions.forEach(function (suggestion, at) {
      const item = document.createElement("li");
      item.id = "suggestion-" + at;
      item.setAttribute("role", "option");
      item.setAttribute("aria-selected", "false");
      item.dataset.value = before + suggestion.text;
      const text = document.createElement("span");
      text.className = "text";
      text.textContent = suggestion.text;
      const count = document.createElement("span");
      count.className = "count";
      count.textContent = suggestion.paragraphs.toLocaleString("ja-JP") + "件";
      item.append(text, count);
      item.addEventListener("mousedown", function (event) {
        event.preventDefault(); // keep the focus in the box
        pick(item);
      });
      list.append(item);
    });
    list.hidden = suggestions.length === 0;
    box.setAttribute("aria-expanded", String(suggestions.length > 0));
  }

  function ask() {
    const { before, word } = lastWord(box.value);
    if (!word.trim()) {
      close();
      return;
    }
    const number = ++asked;
    fetch("/api/suggest?" + new URLSearchParams({ q: word, limit: "8" }))
      .then(function (reply) {
        return reply.ok ? reply.json() : { suggestions: [] };
      })
      .then(function (body) {
        if (number === asked && document.activeElement === box) show(body.suggestions, before);
      })
      .catch(close);
  }

  function move(step) {
    const items = list.children;
    if (!items.length) return;
    if (chosen >= 0) items[chosen].setAttribute("aria-selected", "false");
    chosen += step; // -1: none chosen, the text as typed
    if (chosen >= items.length) chosen = -1;
    else if (chosen < -1) chosen = items.length - 1;
    if (chosen >= 0) {
      items[chosen].setAttribute("aria-selected", "true");
      box.setAttribute("aria-activedescendant", items[chosen].id);
    } else {
      box.removeAttribute("aria-activedescendant");
    }
  }

  function pick(item) {
    box.value = item.dataset.value;
    close();
    if (form.requestSubmit) form.requestSubmit();
    else form.submit();
  }

  box.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(ask, WAIT_MS);
  });
  box.addEventListener("keydown", function (event) {
    if (list.hidden) return;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      move(event.key === "ArrowDown" ? 1 : -1);
    } else if (event.key === "Enter" && chosen >= 0) {
      event.preventDefault();
      pick(list.children[chosen]);
    } else if (event.key === "Escape") {
      event.preventDefault();
      close();
    }
  });
  box.addEventListener("blur", close);
})();
