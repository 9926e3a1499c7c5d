// The window's first page: asks the app for its server, then goes there. The texts come
// from the app (its localisation files), never from here.
const { invoke } = window.__TAURI__.core;
const place = document.getElementById("start");

function say(text, role) {
  const p = document.createElement("p");
  p.textContent = text;
  if (role) p.setAttribute("role", role);
  place.replaceChildren(p);
}

function ask(next) {
  say(next.question);
  const agree = document.createElement("button");
  agree.textContent = next.agree;
  agree.className = "primary";
  agree.addEventListener("click", () => go("keep_secrets_in_files"));
  const quit = document.createElement("button");
  quit.textContent = next.quit;
  quit.addEventListener("click", () => window.close());
  place.append(agree, quit);
  agree.focus();
}

async function go(command) {
  try {
    const next = await invoke(command);
    if (next.next === "open") {
      window.location.replace(next.url);
    } else {
      ask(next);
    }
  } catch (error) {
    say(String(error), "alert");
  }
}

go("start");
