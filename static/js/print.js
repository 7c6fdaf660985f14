/* Print buttons ([data-print]) without inline handlers, which the CSP forbids. */
document.addEventListener("click", function (event) {
    if (event.target.closest("[data-print]")) {
        window.print();
    }
});
