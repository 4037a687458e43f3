// Dasbor Jangkau: the only script. Print buttons, and a chosen CSV file read into the
// places textarea (nothing is sent until the form is submitted). Pages work without it.
document.addEventListener('click', (e) => {
  if (e.target.closest('[data-print]')) window.print();
});
document.addEventListener('change', (e) => {
  const input = e.target.closest('input[type=file][data-fill]');
  if (!input || !input.files || !input.files[0]) return;
  const target = document.getElementById(input.dataset.fill);
  input.files[0].text().then((t) => { if (target) target.value = t; });
});
