// The sandbox page: a person picker, their DM and Home tab, modals, the command box and the clock.
// Message, Home and modal HTML comes rendered (and escaped) by the server, from sandbox/blockkit_html.py;
// everything this script builds itself goes through textContent.
"use strict";

(function () {
  const prefix = document.body.dataset.prefix;
  const $ = (selector) => document.querySelector(selector);
  const ui = {
    people: $("#people"), empty: $("#empty"), conversation: $("#conversation"),
    messages: $("#messages"), messagesPane: $("#messages-pane"), home: $("#home"), homePane: $("#home-pane"),
    overlay: $("#overlay"), toast: $("#toast"), clockNow: $("#clock-now"), clockLocal: $("#clock-local"),
    clockNext: $("#clock-next"),
    who: $("#conv-who"), bot: $("#conv-bot"), botAvatar: $("#conv-avatar"), composer: $("#composer"),
    command: $("#command"),
  };
  const app = { people: [], user: null, tab: "messages", version: null, modalKey: null, seen: {}, polling: false };
  const REQUIRED = "Please complete this required field.";

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  async function request(path, body, quiet) {
    const options = body === undefined
      ? { cache: "no-store" }
      : { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) };
    let response;
    try {
      response = await fetch(prefix + "/api/" + path, options);
    } catch (error) {
      if (!quiet) toast("The sandbox is not answering: " + error.message, true);
      throw error;
    }
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      if (!quiet) toast(data.error || "HTTP " + response.status, true);
      throw new Error(data.error || "HTTP " + response.status);
    }
    return data;
  }

  let toastTimer = null;
  function toast(text, isError) {
    ui.toast.textContent = text;
    ui.toast.className = "toast" + (isError ? " toast-error" : "");
    ui.toast.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { ui.toast.hidden = true; }, isError ? 7000 : 4000);
  }

  // ---------------------------------------------------------------- people and clock
  function person(id) { return app.people.find((p) => p.id === id) || null; }

  function renderPeople() {
    const links = app.people.map((p) => {
      const link = el("a", "person" + (p.id === app.user ? " active" : ""));
      link.href = "#" + encodeURIComponent(p.id);
      link.dataset.userId = p.id;
      if (p.id === app.user) link.setAttribute("aria-current", "page");
      const info = el("span", "person-info");
      info.append(
        el("span", "person-name", p.name),
        el("span", "person-meta", p.role + (p.team ? " · " + p.team : "")),
        el("span", "person-tz", p.tz + " · " + p.local_day + " " + p.local_time),
      );
      const avatar = el("span", "avatar av-" + p.colour, p.initials);
      avatar.setAttribute("aria-hidden", "true");
      link.append(avatar, info);
      const unread = p.messages - (app.seen[p.id] ?? p.messages);
      if (unread > 0 && p.id !== app.user) link.append(el("span", "badge", String(unread)));
      return link;
    });
    ui.people.replaceChildren(...links);
  }

  function renderHeader() {
    const p = person(app.user);
    if (!p) return;
    ui.who.textContent = "as " + p.name + " · " + p.role + " · " + p.tz;
    ui.clockLocal.textContent = "· " + p.local_day + ", " + p.local_time + " for " + p.name.split(" ")[0] +
      " (" + p.utc_offset + ")";
    ui.command.placeholder = "Send a slash command as " + p.name + ", e.g. /learn packs";
  }

  async function loadState(quiet) {
    const data = await request("state", undefined, quiet);
    app.people = data.people;
    ui.clockNow.textContent = data.now_label;
    ui.clockNext.textContent = data.next_due_label ? "· next delivery " + data.next_due_label : "· nothing scheduled";
    ui.bot.textContent = data.bot.name;
    ui.botAvatar.textContent = data.bot.initial;
    for (const p of data.people) if (!(p.id in app.seen)) app.seen[p.id] = p.messages;
    renderPeople();
    renderHeader();
  }

  async function moveClock(step) {
    const buttons = document.querySelectorAll("[data-step]");
    buttons.forEach((b) => { b.disabled = true; });
    toast("Moving the clock and running Sprout at every due time on the way…");
    try {
      const data = await request("clock", { step: step });
      ui.clockNow.textContent = data.now_label;
      toast(data.message);
      await loadState(true);
      await refresh(true);
    } catch (error) {
      // already shown
    } finally {
      buttons.forEach((b) => { b.disabled = false; });
    }
  }

  // ---------------------------------------------------------------- the selected person
  async function select(id) {
    if (!person(id)) return;
    app.user = id;
    app.version = null;
    app.modalKey = null;
    closeOverlay();
    ui.empty.hidden = true;
    ui.conversation.hidden = false;
    ui.messages.replaceChildren();
    renderPeople();
    renderHeader();
    if (app.tab === "home") await openHome();
    await refresh(true);
    ui.command.focus();
  }

  async function refresh(toBottom) {
    const user = app.user;
    if (!user) return;
    const data = await request("person?user=" + encodeURIComponent(user), undefined, true);
    if (user !== app.user) return;
    app.version = data.version;
    const pane = ui.messagesPane;
    const nearBottom = pane.scrollHeight - pane.scrollTop - pane.clientHeight < 120;
    ui.messages.innerHTML = data.messages_html; // server-rendered, every string escaped
    if (toBottom || nearBottom) pane.scrollTop = pane.scrollHeight;
    if (data.home) {
      ui.home.innerHTML = data.home.html; // server-rendered, every string escaped
    } else {
      ui.home.replaceChildren(el("p", "home-empty",
        "Sprout has not published a Home tab for this person yet."));
    }
    renderModal(data.modal);
    app.seen[user] = data.messages.filter((m) => m.kind === "message").length;
  }

  function closeOverlay() {
    ui.overlay.hidden = true;
    ui.overlay.replaceChildren();
    app.modalKey = null;
  }

  function fieldKey(node) {
    return (node.dataset.blockId || "") + "\u0000" + (node.dataset.actionId || "");
  }

  // What is typed or picked in the open modal, by block and action id, to survive a re-render.
  function typedValues(root) {
    const values = new Map();
    root.querySelectorAll("[data-input-block] [data-sk][data-action-id]").forEach((node) => {
      values.set(fieldKey(node), readValue(node));
    });
    return values;
  }

  function restoreValues(root, values) {
    root.querySelectorAll("[data-input-block] [data-sk][data-action-id]").forEach((node) => {
      const key = fieldKey(node);
      if (!values.has(key)) return;
      const value = values.get(key);
      const picked = new Set(Array.isArray(value) ? value : value === null ? [] : [value]);
      if (node.dataset.sk === "checkboxes" || node.dataset.sk === "radio") {
        node.querySelectorAll("input").forEach((input) => { input.checked = picked.has(input.value); });
      } else if (node.dataset.sk === "select") {
        Array.from(node.options).forEach((o) => { o.selected = picked.has(o.value); });
      } else {
        node.value = value === null ? "" : value;
      }
    });
  }

  function renderModal(modal) {
    if (!modal) {
      if (app.modalKey !== null) closeOverlay();
      return;
    }
    if (modal.key === app.modalKey) return; // keep what is being typed
    const current = ui.overlay.querySelector(".sk-modal");
    const sameView = current && current.dataset.viewId === modal.view_id;
    // Slack keeps what was typed in inputs that survive an update of the same view.
    const typed = sameView ? typedValues(current) : null;
    const focused = sameView && document.activeElement && current.contains(document.activeElement)
      ? document.activeElement.closest("[data-sk][data-action-id]") : null;
    const focusKey = focused ? fieldKey(focused) : null;
    app.modalKey = modal.key;
    ui.overlay.innerHTML = modal.html; // server-rendered, every string escaped
    ui.overlay.hidden = false;
    if (typed) restoreValues(ui.overlay, typed);
    let target = null;
    if (focusKey !== null) {
      target = Array.from(ui.overlay.querySelectorAll("[data-sk][data-action-id]"))
        .find((node) => fieldKey(node) === focusKey) || null;
    }
    if (!target && !sameView) target = ui.overlay.querySelector(".sk-has-error [data-sk], textarea, input, select");
    if (target) target.focus();
  }

  async function poll() {
    if (app.polling) return;
    app.polling = true;
    try {
      if (app.user) {
        const data = await request("version?user=" + encodeURIComponent(app.user), undefined, true);
        if (data.version !== app.version) {
          await loadState(true);
          await refresh(false);
        }
      } else {
        await loadState(true);
      }
    } catch (error) {
      console.debug("poll failed; the next one tries again", error);
    } finally {
      app.polling = false;
    }
  }

  function soon() {
    setTimeout(poll, 120);
    setTimeout(poll, 450);
  }

  async function openHome() {
    try {
      await request("home", { user: app.user });
    } catch (error) {
      return;
    }
    soon();
  }

  function switchTab(tab) {
    app.tab = tab;
    document.querySelectorAll("[data-tab]").forEach((b) => {
      b.setAttribute("aria-selected", String(b.dataset.tab === tab));
    });
    ui.messagesPane.hidden = tab !== "messages";
    ui.homePane.hidden = tab !== "home";
    ui.composer.hidden = tab !== "messages";
    if (tab === "home" && app.user) openHome();
  }

  // ---------------------------------------------------------------- acting as the person
  function surfaceOf(node) {
    const holder = node.closest("[data-surface]");
    if (holder) return JSON.parse(holder.dataset.surface);
    const view = node.closest("[data-view-id]");
    return view ? { kind: "view", view_id: view.dataset.viewId } : null;
  }

  function readValue(node) {
    switch (node.dataset.sk) {
      case "text":
        return node.value === "" ? null : node.value;
      case "select":
        if (node.multiple) return Array.from(node.selectedOptions).map((o) => o.value).filter((v) => v !== "");
        return node.value === "" ? null : node.value;
      case "checkboxes":
        return Array.from(node.querySelectorAll("input:checked")).map((i) => i.value);
      case "radio": {
        const checked = node.querySelector("input:checked");
        return checked ? checked.value : null;
      }
      case "date":
      case "time":
        return node.value || null;
      default:
        return null;
    }
  }

  async function act(node, payload) {
    const surface = surfaceOf(node);
    if (!surface || !app.user) return;
    node.classList.add("sk-busy");
    try {
      await request("action", Object.assign({ user: app.user, surface: surface }, payload));
    } catch (error) {
      // already shown
    } finally {
      setTimeout(() => node.classList.remove("sk-busy"), 250);
    }
    soon();
  }

  function showErrors(modal, errors) {
    for (const [blockId, message] of Object.entries(errors)) {
      const block = modal.querySelector('[data-input-block="' + CSS.escape(blockId) + '"]');
      if (!block) continue;
      block.classList.add("sk-has-error");
      let note = block.querySelector(".sk-error");
      if (!note) {
        note = el("div", "sk-error");
        note.setAttribute("role", "alert");
        const label = block.querySelector(".sk-label");
        const field = label ? label.nextElementSibling : null;
        if (field) field.after(note); else block.append(note);
      }
      note.textContent = message;
    }
  }

  async function submitModal(button) {
    const modal = button.closest(".sk-modal");
    if (!modal) return;
    const values = {};
    const missing = {};
    modal.querySelectorAll("[data-input-block]").forEach((block) => {
      const field = block.querySelector("[data-sk][data-action-id]");
      if (!field) return;
      const value = readValue(field);
      values[block.dataset.inputBlock] = { [field.dataset.actionId]: value };
      const empty = value === null || (Array.isArray(value) && value.length === 0);
      if (empty && block.dataset.optional !== "1") missing[block.dataset.inputBlock] = REQUIRED;
    });
    if (Object.keys(missing).length) {
      showErrors(modal, missing); // as the Slack client does, without asking the app
      return;
    }
    button.disabled = true;
    try {
      const data = await request("submit", { user: app.user, view_id: modal.dataset.viewId, values: values });
      if (data.errors) showErrors(modal, data.errors);
    } catch (error) {
      // already shown
    } finally {
      button.disabled = false;
    }
    soon();
  }

  async function closeModal(node) {
    const modal = node.closest(".sk-modal");
    if (!modal) return;
    try {
      await request("close", { user: app.user, view_id: modal.dataset.viewId });
    } catch (error) {
      // already shown
    }
    soon();
  }

  document.addEventListener("click", (event) => {
    const target = event.target;
    if (!(target instanceof Element)) return;
    const step = target.closest("[data-step]");
    if (step) { moveClock(step.dataset.step); return; }
    const tab = target.closest("[data-tab]");
    if (tab) { switchTab(tab.dataset.tab); return; }
    const sk = target.closest("[data-sk]");
    if (!sk || !app.user) return;
    const kind = sk.dataset.sk;
    if (kind === "button") {
      if (sk.dataset.confirm && !window.confirm(sk.dataset.confirm)) { event.preventDefault(); return; }
      if (sk.tagName !== "A") event.preventDefault(); // a URL button also opens its page, as in Slack
      act(sk, { action_id: sk.dataset.actionId, value: sk.dataset.value });
    } else if (kind === "option") {
      if (sk.tagName !== "A") event.preventDefault();
      const menu = sk.closest("details");
      if (menu) menu.open = false;
      act(sk, { action_id: sk.dataset.actionId, selected: sk.dataset.value });
    } else if (kind === "close") {
      closeModal(sk);
    } else if (kind === "submit") {
      submitModal(sk);
    }
  });

  document.addEventListener("change", (event) => {
    const target = event.target;
    if (!(target instanceof Element) || !app.user) return;
    const holder = target.closest(
      '[data-sk="select"], [data-sk="date"], [data-sk="time"], [data-sk="checkboxes"], [data-sk="radio"]');
    if (!holder) return;
    const input = holder.closest("[data-input-block]");
    if (input && input.dataset.dispatch !== "1") return; // Slack sends nothing until the modal is submitted
    act(holder, { action_id: holder.dataset.actionId, selected: readValue(holder) });
  });

  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape" || ui.overlay.hidden) return;
    const modal = ui.overlay.querySelector(".sk-modal");
    if (modal) closeModal(modal);
  });

  ui.composer.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = ui.command.value.trim();
    if (!text || !app.user) return;
    if (!text.startsWith("/")) {
      toast("Only slash commands go to Sprout from here, like /learn packs", true);
      return;
    }
    try {
      await request("command", { user: app.user, text: text });
      ui.command.value = "";
    } catch (error) {
      // already shown
    }
    soon();
  });

  window.addEventListener("hashchange", () => select(decodeURIComponent(location.hash.slice(1))));

  loadState().then(() => {
    if (location.hash.length > 1) select(decodeURIComponent(location.hash.slice(1)));
  }).catch((error) => console.error("the sandbox page could not start", error));
  setInterval(poll, 1000);
})();
