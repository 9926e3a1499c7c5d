// The join page's camera (a teacher's computer): frames of the laptop's camera go to the
// server, which reads a QR code in them as in an uploaded picture; the address it finds is
// submitted as if typed. Without a camera API the card stays hidden.
(function () {
  "use strict";
  var card = document.getElementById("camera");
  if (!card || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) return;
  card.hidden = false;
  var video = document.getElementById("camera-video");
  var status = document.getElementById("camera-status");
  var csrf = document.querySelector("input[name=csrf]").value;
  var canvas = document.createElement("canvas");
  var say = function (what) { status.textContent = card.dataset[what]; };

  document.getElementById("camera-start").addEventListener("click", function () {
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false }).then(
      function (stream) {
        video.srcObject = stream;
        video.hidden = false;
        say("looking");
        look(stream);
      },
      function () { say("denied"); }
    );
  });

  function again(stream, ms) { setTimeout(function () { look(stream); }, ms); }

  function look(stream) {
    if (!video.videoWidth) return again(stream, 300);
    var scale = Math.min(1, 1280 / video.videoWidth);
    canvas.width = Math.round(video.videoWidth * scale);
    canvas.height = Math.round(video.videoHeight * scale);
    canvas.getContext("2d").drawImage(video, 0, 0, canvas.width, canvas.height);
    canvas.toBlob(function (frame) {
      var form = new FormData();
      form.append("csrf", csrf);
      form.append("picture", frame, "camera.jpg");
      fetch("/join/qr/frame", { method: "POST", body: form, credentials: "same-origin" })
        .then(function (answer) { return answer.json(); })
        .then(function (read) {
          if (!read.address) {
            say("none");
            return again(stream, 700);
          }
          stream.getTracks().forEach(function (track) { track.stop(); });
          var address = document.getElementById("address");
          address.value = read.address;
          address.form.submit();
        }, function () { again(stream, 2000); });
    }, "image/jpeg", 0.85);
  }
})();
