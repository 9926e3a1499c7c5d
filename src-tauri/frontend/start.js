// The window's first page: asks the app for its server, then goes there. The texts come
// from the app (its localisation files), never from here.
const { invoke } = window.__TAURI__.core;
const place = document.getElementById("start");

function paragraph(text, role) {
  const p = document.createElement("p");
  p.textContent = text;
  if (role) p.setAttribute("role", role);
  return p;
}

function button(label, primary, action) {
  const b = document.createElement("button");
  b.textContent = label;
  if (primary) b.className = "primary";
  b.addEventListener("click", action);
  return b;
}

// The keyring question: keep the secrets in files, or quit.
function ask(next) {
  const agree = button(next.agree, true, () => go("keep_secrets_in_files"));
  place.replaceChildren(paragraph(next.question), agree, button(next.quit, false, () => window.close()));
  agree.focus();
}

// The first start: how this computer runs Préau. A refusal is said above the choices,
// which stay.
function choose(next) {
  const choices = [["teacher", next.teacher], ["class-server", next.class_server]].map(([mode, choice]) => {
    const section = document.createElement("section");
    section.className = "choice";
    section.append(
      button(choice.label, mode === "teacher", () => go("choose", { mode }, choose.bind(null, next))),
      paragraph(choice.text),
    );
    return section;
  });
  const question = document.createElement("h2");
  question.textContent = next.question;
  place.replaceChildren(question, ...choices);
}

async function go(command, args, again) {
  place.setAttribute("aria-busy", "true");
  try {
    const next = await invoke(command, args);
    if (next.next === "open") {
      window.location.replace(next.url);
    } else if (next.next === "choose") {
      choose(next);
    } else {
      ask(next);
    }
  } catch (error) {
    if (again) again();
    place.prepend(paragraph(String(error), "alert"));
  } finally {
    place.removeAttribute("aria-busy");
  }
}

go("start");
