// The deck's vote chart: plotly's own FigureWidget code, loaded so that a slow load cannot
// cut the chart off from the kernel.
//
// anywidget gives a widget's module 2 s to load and initialise; past that, the model's
// `ready` promise is rejected for good and every later message from the kernel (each new
// tally, each decision's options) is dropped. Plotly's widget module is 5 MB: on a busy
// laptop it loads slower than that, and the chart stayed empty for the whole talk. This
// module is tiny and initialises at once, so the model always takes the kernel's updates;
// plotly's module is imported in the background, and the chart draws once it is there,
// from the model's state (the kernel keeps `_widget_data` and `_widget_layout` equal to the
// chart: cyoa/deck/views.py).

let plotlyWidget = null; // one import per page, whatever the number of charts

function loadPlotly(model) {
  if (!plotlyWidget) {
    const code = new Blob([model.get("_plotly_bundle")], { type: "text/javascript" });
    const url = URL.createObjectURL(code);
    plotlyWidget = import(url).finally(() => URL.revokeObjectURL(url));
  }
  return plotlyWidget;
}

export default () => {
  let figure = null; // plotly's widget for this model, once initialised
  return {
    initialize({ model }) {
      figure = loadPlotly(model).then((module) => {
        const widget = module.default();
        widget.initialize({ model });
        return widget;
      });
      figure.catch((error) => console.error("[cyoa] the chart's code did not load", error));
    },
    async render({ model, el }) {
      const widget = await figure;
      return widget.render({ model, el });
    },
  };
};
