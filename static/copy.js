// The one script of the site: a "Copy link" button beside a share link. Without it the
// button stays hidden and the link can still be selected in its field, or opened.
document.querySelectorAll("button[data-copy]").forEach((button) => {
  const field = document.getElementById(button.dataset.copy);
  const status = document.getElementById(`${button.dataset.copy}-status`);
  if (!field || !status) return;
  button.hidden = false;
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(field.value);
      status.textContent = "Link copied.";
    } catch {
      // No clipboard access (an older browser, or permission refused): select the link so
      // that the person can copy it themselves.
      field.focus();
      field.select();
      status.textContent = document.execCommand("copy")
        ? "Link copied."
        : "The link is selected: copy it with your keyboard or menu.";
    }
  });
});
