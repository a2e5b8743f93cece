// Draws every chart on the page: an element with a Vega-Lite specification in its
// data-vega-lite attribute. `vegaEmbed` comes from the bundle named in this script's
// data-bundle (Vega, Vega-Lite and vega-embed from the vl-convert wheel, served by us),
// loaded here so the page never waits for it.
// Settings for the page's Content-Security-Policy (scripts and styles only from this site):
// `ast` evaluates Vega expressions with an interpreter instead of `new Function`;
// `defaultStyle: false` and the tooltip's `disableDefaultStyle` add no <style> element
// (app.css styles both).
function drawCharts() {
  for (const element of document.querySelectorAll("[data-vega-lite]")) {
    const spec = JSON.parse(element.dataset.vegaLite);
    window.vegaEmbed(element, spec, {
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
const bundle = document.createElement("script");
bundle.src = document.currentScript.dataset.bundle;
bundle.addEventListener("load", drawCharts);
document.head.append(bundle);
