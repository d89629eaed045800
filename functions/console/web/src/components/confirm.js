// The question asked before a write (ElMessageBox.confirm): true when the user
// confirms, false when they cancel or close it. `type` sets the icon, `ok` the
// confirm button's text.
export async function confirmed(text, title, { type = "warning", ok = "确定" } = {}) {
  try {
    await ElMessageBox.confirm(text, title, { type, confirmButtonText: ok, cancelButtonText: "取消" });
    return true;
  } catch {
    return false;
  }
}
