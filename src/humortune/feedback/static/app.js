// humortune review UI: keyboard shortcuts and in-browser validation. No dependencies, no network.
// The pages work without this file (plain forms); it only adds speed. The server validates everything again.
"use strict";

(function () {
  const page = document.body.dataset.page || "";
  const $ = (id) => document.getElementById(id);
  const help = $("help");

  function typing(el) {
    if (!el) return false;
    const tag = el.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || el.isContentEditable;
  }

  function submit(form) {
    if (!form || form.dataset.sent) return;
    form.dataset.sent = "1"; // no double submits
    form.requestSubmit();
  }

  function toggleHelp() {
    if (!help) return;
    if (help.open) help.close();
    else help.showModal();
  }
  const helpButton = $("help-button");
  if (helpButton) helpButton.addEventListener("click", toggleHelp);

  // Filters submit themselves when changed.
  document.querySelectorAll("[data-autosubmit]").forEach((el) => {
    el.addEventListener("change", () => el.form && el.form.requestSubmit());
  });

  // -- video ------------------------------------------------------------------------------------
  const player = $("player");
  function togglePlay() {
    if (!player) return;
    if (player.paused) player.play().catch(() => {});
    else player.pause();
  }
  if (player) {
    // Autoplay may be refused by the browser's policy; the owner then presses k.
    player.play().catch(() => {});
  }

  // -- queue ------------------------------------------------------------------------------------
  const rows = Array.from(document.querySelectorAll("tr.item"));
  let selected = rows.length ? 0 : -1;
  function select(i) {
    if (!rows.length) return;
    selected = Math.max(0, Math.min(rows.length - 1, i));
    rows.forEach((r, j) => r.classList.toggle("selected", j === selected));
    rows[selected].scrollIntoView({ block: "nearest" });
  }
  if (rows.length) select(0);
  rows.forEach((row, i) => row.addEventListener("click", (ev) => {
    if (ev.target.tagName !== "A") { select(i); window.location.href = row.dataset.href; }
  }));

  // -- clip editor ------------------------------------------------------------------------------
  const form = $("review-form");
  const dataEl = $("clip-data");
  const data = dataEl ? JSON.parse(dataEl.textContent) : { model: {}, previous: null };
  const recordFields = ["summary", "mechanism", "why_it_works", "audience", "category", "quality", "replicable"];
  const clientError = $("client-error");

  function field(name) { return $("f-" + name); }

  function markChanged() {
    if (!form) return;
    ["narrative"].concat(recordFields).forEach((name) => {
      const el = field(name);
      if (!el) return;
      const changed = (el.value || "").trim() !== String(data.model[name] || "").trim();
      el.closest("label").classList.toggle("changed", changed);
    });
  }

  function fill(values) {
    if (!values) return;
    ["narrative"].concat(recordFields).forEach((name) => {
      const el = field(name);
      if (el && name in values) el.value = values[name];
    });
    if ("niche" in values && field("niche")) field("niche").value = values.niche;
    markChanged();
  }

  function showError(message, el) {
    clientError.textContent = message;
    clientError.hidden = false;
    if (el) { el.closest("label").classList.add("invalid"); el.focus(); }
    return false;
  }

  function validate() {
    document.querySelectorAll("label.invalid").forEach((l) => l.classList.remove("invalid"));
    clientError.hidden = true;
    const narrative = field("narrative");
    if (!narrative.value.trim()) return showError("The narrative is empty: write what the clip does, or skip it.", narrative);
    if (narrative.value.length > Number(narrative.maxLength)) return showError("The narrative is too long.", narrative);
    const filled = recordFields.filter((n) => field(n).value.trim() !== "");
    if (filled.length && filled.length < recordFields.length) {
      const missing = recordFields.find((n) => field(n).value.trim() === "");
      return showError("Fill in every record field, or clear them all (missing: " + missing.replace(/_/g, " ") + ").", field(missing));
    }
    const words = field("mechanism").value.trim().split(/\s+/).filter(Boolean).length;
    if (words > 20) return showError("The mechanism is a short phrase (5–10 words); it has " + words + ".", field("mechanism"));
    const niche = field("niche");
    if (niche.value.trim() && !/^[A-Za-z0-9][A-Za-z0-9_ -]{0,39}$/.test(niche.value.trim())) {
      return showError("A niche is 1–40 letters, digits, '-' or '_'.", niche);
    }
    return true;
  }

  if (form) {
    form.addEventListener("input", markChanged);
    form.addEventListener("change", markChanged);
    form.addEventListener("submit", (ev) => {
      if (!validate()) { ev.preventDefault(); delete form.dataset.sent; }
    });
    markChanged();
    const usePrevious = $("use-previous");
    if (usePrevious) usePrevious.addEventListener("click", () => fill(data.previous));
    $("reset").addEventListener("click", () => fill(data.model));
    // The accept and niche-only forms take the niche typed in the editor.
    document.querySelectorAll("[data-sync]").forEach((hidden) => {
      hidden.form.addEventListener("submit", () => { hidden.value = field("niche").value; });
    });
    const errorField = document.querySelector("label.invalid input, label.invalid textarea, label.invalid select");
    if (errorField) errorField.focus();
  }

  function setVerdict(value) {
    const el = field("verdict");
    if (el) { el.value = el.value === value ? "" : value; }
  }

  // -- keys -------------------------------------------------------------------------------------
  document.addEventListener("keydown", (ev) => {
    const key = ev.key;
    if (help && help.open) {
      if (key === "?") { ev.preventDefault(); help.close(); }
      return; // the dialog handles Esc itself
    }
    const inField = typing(document.activeElement);
    if ((ev.ctrlKey || ev.metaKey) && (key === "Enter" || key === "s")) {
      if (form) { ev.preventDefault(); if (validate()) submit(form); }
      else if ($("add-form")) { ev.preventDefault(); submit($("add-form")); }
      return;
    }
    if (inField) {
      if (key === "Escape") { ev.preventDefault(); document.activeElement.blur(); }
      return;
    }
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    const click = (id) => { const el = $(id); if (el) { ev.preventDefault(); el.click(); } };
    switch (key) {
      case "?": ev.preventDefault(); toggleHelp(); return;
      case "u": ev.preventDefault(); submit($("undo-form")); return;
      case "g": ev.preventDefault(); window.location.href = document.querySelector("nav a[data-key=g]").href; return;
      case "b": ev.preventDefault(); window.location.href = document.querySelector("nav a[data-key=b]").href; return;
    }
    if (page === "queue") {
      if (key === "j" || key === "ArrowDown") { ev.preventDefault(); select(selected + 1); }
      else if (key === "k" || key === "ArrowUp") { ev.preventDefault(); select(selected - 1); }
      else if ((key === "Enter" || key === "o") && selected >= 0) { ev.preventDefault(); window.location.href = rows[selected].dataset.href; }
      return;
    }
    if (player && (key === "k" || key === " ")) { ev.preventDefault(); togglePlay(); return; }
    if (page === "ab") {
      if (key === "1" || key === "ArrowLeft") click("choose-a");
      else if (key === "2" || key === "ArrowRight") click("choose-b");
      else if (key === "3" || key === "=") click("choose-tie");
      return;
    }
    if (page !== "clip" || !form) return;
    if (player && (key === "ArrowLeft" || key === "ArrowRight")) {
      ev.preventDefault();
      player.currentTime = Math.max(0, player.currentTime + (key === "ArrowLeft" ? -2 : 2));
      return;
    }
    if (/^[1-7]$/.test(key)) {
      ev.preventDefault();
      const el = form.querySelector('[data-index="' + key + '"]');
      if (el) el.focus();
      return;
    }
    switch (key) {
      case "e": ev.preventDefault(); field("narrative").focus(); break;
      case "t": ev.preventDefault(); field("niche").focus(); break;
      case "T": click("tag-niche"); break;
      case "a": ev.preventDefault(); submit($("accept-form")); break;
      case "s": ev.preventDefault(); submit($("skip-form")); break;
      case "p": ev.preventDefault(); fill(data.previous); break;
      case "r": ev.preventDefault(); fill(data.model); break;
      case "y": ev.preventDefault(); setVerdict("PASS"); break;
      case "x": ev.preventDefault(); setVerdict("FAIL"); break;
    }
  });
})();
