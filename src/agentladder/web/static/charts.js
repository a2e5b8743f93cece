// Draws every chart on the page: an element with a Vega-Lite specification in its
// data-vega-lite attribute, with `vegaEmbed` from /assets/charts.js (Vega, Vega-Lite and
// vega-embed from the vl-convert wheel), which the page loads first.
// Settings for the page's Content-Security-Policy (scripts and styles only from this site):
// `ast` evaluates Vega expressions with an interpreter instead of `new Function`;
// `defaultStyle: false` and the tooltip's `disableDefaultStyle` add no <style> element
// (app.css styles both).
function drawCharts() {
  for (const element of document.querySelectorAll("[data-vega-lite]")) {
    const spec = JSON.parse(element.dataset.vegaLite);
    vegaEmbed(element, spec, {
      actions: false,
      ast: true,
      renderer: "svg",
      defaultStyle: false,
      tooltip: { disableDefaultStyle: true },
    }).then(
      () => element.setAttribute("data-drawn", "true"),
      (error) => {
        element.setAttribute("data-drawn", "failed");
        console.error(error);
      },
    );
  }
}
if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", drawCharts);
} else {
  drawCharts();
}
