// Once django-otp-webauthn's script reports the passkey added, go on to the
// page the user was heading for (data-continue-url on #passkey-add).
const container = document.getElementById("passkey-add");
if (container) {
  document.addEventListener("otp_webauthn.register_complete", () => {
    window.location.assign(container.dataset.continueUrl || "/");
  });
}
