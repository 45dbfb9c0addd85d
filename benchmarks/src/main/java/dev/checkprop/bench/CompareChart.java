package dev.checkprop.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.internal.chartpart.Annotation;
import org.knowm.xchart.style.AxesChartStyler;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.XYStyler;
import org.knowm.xchart.style.markers.Marker;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Line2D;
import java.awt.geom.Rectangle2D;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.DecimalFormat;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The plot of {@code benchmarks/compare-torch.sh}: a roofline-style chart of the GFLOP/s each
 * library achieved on each shape and plan (y, log scale) against the arithmetic intensity of one
 * layer's forward product (x, log scale: 2·W²·B FLOPs over the 4·W·(W + 2B) bytes of W, its input
 * and its output), with the machine's measured FMA peaks (one core, and the run's thread count) as
 * dashed ceilings. checkprop in blue, PyTorch in orange; circles for {@code full}, triangles for
 * {@code sqrt}; a grey line joins the two libraries' points of one shape and plan, and each shape is
 * labelled {@code W×B} once.
 *
 * <p>Usage: {@code java -cp benchmarks/target/benchmarks.jar dev.checkprop.bench.CompareChart results.json [out.png]}
 * (default: the JSON path with {@code .png}). The JSON is what {@code benchmarks/compare/compare.py}
 * writes: {@code {"meta": {...}, "rows": [{"width", "batch", "layers", "plan", "checkprop": {"gflops"},
 * "torch": {"gflops"}}]}}.
 */
public final class CompareChart {

    private static final Color CHECKPROP = new Color(0x1f77b4);
    private static final Color TORCH = new Color(0xff7f0e);
    private static final BasicStroke DASHED = new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f,
            new float[] {6f, 4f}, 0f);

    private CompareChart() {
    }

    /** One achieved point. */
    record Point(int width, int batch, int layers, String plan, String library, double gflops) {
        double intensity() {
            return CompareChart.intensity(width, batch);
        }
    }

    /** FLOPs per byte of one layer's forward product: 2·W²·B over 4·W·(W + 2·B) (W, input, output, floats). */
    static double intensity(int width, int batch) {
        return 2.0 * width * (double) width * batch / (4.0 * width * ((double) width + 2.0 * batch));
    }

    /** The points of a results file, checkprop's and PyTorch's, where a GFLOP/s figure exists. */
    static List<Point> points(JsonNode root) {
        List<Point> out = new ArrayList<>();
        for (JsonNode r : root.path("rows")) {
            for (String lib : new String[] {"checkprop", "torch"}) {
                JsonNode g = r.path(lib).path("gflops");
                if (g.isNumber() && g.asDouble() > 0) {
                    out.add(new Point(r.path("width").asInt(), r.path("batch").asInt(), r.path("layers").asInt(),
                            r.path("plan").asText(), lib, g.asDouble()));
                }
            }
        }
        return out;
    }

    /** Builds the chart. */
    public static XYChart chart(JsonNode root, int width, int height) {
        JsonNode meta = root.path("meta");
        int threads = meta.path("threads").asInt(meta.path("peak_threads").asInt(2));
        double peak1 = meta.path("peak_gflops_1core").asDouble(Double.NaN);
        double peakT = meta.path("peak_gflops_" + threads + "cores").asDouble(Double.NaN);
        String cpu = meta.path("cpu").path("model_name").asText("");
        String title = "Achieved GFLOP/s per training step vs the measured FMA peak"
                + (cpu.isEmpty() ? "" : " (" + cpu + ", " + threads + " threads)");
        XYChart chart = new XYChartBuilder().width(width).height(height).title(title)
                .xAxisTitle("arithmetic intensity of one layer's forward product, W·B / (2(W + 2B)) FLOP/byte (log scale)")
                .yAxisTitle("GFLOP/s (log scale)")
                .build();
        XYStyler st = chart.getStyler();
        st.setXAxisLogarithmic(true);
        st.setYAxisLogarithmic(true);
        st.setXAxisDecimalPattern("#,##0.#");
        st.setYAxisDecimalPattern("#,##0.#");
        st.setLegendPosition(Styler.LegendPosition.InsideSE);
        st.setLegendBackgroundColor(new Color(255, 255, 255, 230));
        st.setChartBackgroundColor(Color.WHITE);
        st.setPlotBackgroundColor(Color.WHITE);
        st.setPlotGridLinesColor(new Color(0xdddddd));
        st.setChartTitleFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
        st.setAxisTitleFont(new Font(Font.SANS_SERIF, Font.PLAIN, 14));
        st.setAxisTickLabelsFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        st.setLegendFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
        st.setAnnotationTextFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        st.setMarkerSize(10);

        List<Point> points = points(root);
        Map<String, List<Point>> series = new LinkedHashMap<>();
        for (String lib : new String[] {"checkprop", "torch"}) {
            for (String plan : new String[] {"full", "sqrt"}) {
                series.put(lib + " " + plan, new ArrayList<>());
            }
        }
        for (Point p : points) {
            series.computeIfAbsent(p.library() + " " + p.plan(), k -> new ArrayList<>()).add(p);
        }
        double minX = Double.POSITIVE_INFINITY;
        double maxX = 0;
        double minY = Double.POSITIVE_INFINITY;
        double maxY = 0;
        for (Map.Entry<String, List<Point>> e : series.entrySet()) {
            List<Point> ps = e.getValue();
            if (ps.isEmpty()) {
                continue;
            }
            double[] x = new double[ps.size()];
            double[] y = new double[ps.size()];
            for (int i = 0; i < x.length; i++) {
                x[i] = ps.get(i).intensity();
                y[i] = ps.get(i).gflops();
                minX = Math.min(minX, x[i]);
                maxX = Math.max(maxX, x[i]);
                minY = Math.min(minY, y[i]);
                maxY = Math.max(maxY, y[i]);
            }
            Point first = ps.get(0);
            boolean cp = first.library().equals("checkprop");
            String name = (cp ? "checkprop" : "PyTorch") + ", " + first.plan();
            XYSeries s = chart.addSeries(name, x, y);
            s.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
            Marker m = first.plan().equals("full") ? SeriesMarkers.CIRCLE : SeriesMarkers.TRIANGLE_UP;
            s.setMarker(m);
            Color c = cp ? CHECKPROP : TORCH;
            if (!first.plan().equals("full")) {
                c = c.darker();
            }
            s.setMarkerColor(c);
            s.setLineColor(c);
        }
        if (points.isEmpty()) {
            return chart;
        }
        for (double p : new double[] {peak1, peakT}) {
            if (p > 0) {
                maxY = Math.max(maxY, p);
            }
        }
        st.setXAxisMin(minX / 1.5);
        st.setXAxisMax(maxX * 1.5);
        st.setYAxisMin(minY / 1.5);
        st.setYAxisMax(maxY * 1.6);
        chart.addAnnotation(new Overlay(points, peak1, peakT, threads));
        return chart;
    }

    /** Peak lines with their figures, the grey joins between libraries, and one W×B label per shape. */
    private static final class Overlay extends Annotation {
        private final List<Point> points;
        private final double peak1;
        private final double peakT;
        private final int threads;

        Overlay(List<Point> points, double peak1, double peakT, int threads) {
            super(false);
            this.points = points;
            this.peak1 = peak1;
            this.peakT = peakT;
            this.threads = threads;
        }

        @Override
        public void paint(Graphics2D g) {
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setFont(styler.getAnnotationTextFont());
            FontMetrics fm = g.getFontMetrics();
            Rectangle2D plot = new Rectangle2D.Double(getXAxisScreenValueForMin(), getYAxisScreenValueForMin(),
                    getXAxisScreenValueForMax() - getXAxisScreenValueForMin(),
                    getYAxisScreenValueForMax() - getYAxisScreenValueForMin());
            drawMinorLabels(g, plot);
            g.setFont(styler.getAnnotationTextFont());
            List<Rectangle2D> taken = new ArrayList<>();
            final double r = 7;
            for (Point p : points) {
                taken.add(new Rectangle2D.Double(getXAxisScreenValue(p.intensity()) - r,
                        getYAxisScreenValue(p.gflops()) - r, 2 * r, 2 * r));
            }
            // The ceilings.
            String[] names = {
                String.format(Locale.ROOT, "FMA peak, 1 core: %.0f GFLOP/s", peak1),
                String.format(Locale.ROOT, "FMA peak, %d cores: %.0f GFLOP/s", threads, peakT),
            };
            double[] peaks = {peak1, peakT};
            for (int i = 0; i < 2; i++) {
                if (!(peaks[i] > 0) || (i == 1 && peakT == peak1)) {
                    continue;
                }
                double y = getYAxisScreenValue(peaks[i]);
                g.setColor(new Color(0x666666));
                g.setStroke(DASHED);
                g.draw(new Line2D.Double(plot.getMinX(), y, plot.getMaxX(), y));
                float tx = (float) (plot.getMinX() + 8);
                float ty = (float) (y - 4);
                g.drawString(names[i], tx, ty);
                taken.add(new Rectangle2D.Double(tx, ty - fm.getAscent(), fm.stringWidth(names[i]), fm.getAscent()));
            }
            // Joins between checkprop and PyTorch at one shape and plan.
            g.setStroke(new BasicStroke(1f));
            g.setColor(new Color(0xbbbbbb));
            for (Point a : points) {
                if (!a.library().equals("checkprop")) {
                    continue;
                }
                for (Point b : points) {
                    if (b.library().equals("torch") && b.width() == a.width() && b.batch() == a.batch()
                            && b.layers() == a.layers() && b.plan().equals(a.plan())) {
                        double x = getXAxisScreenValue(a.intensity());
                        g.draw(new Line2D.Double(x, getYAxisScreenValue(a.gflops()), x, getYAxisScreenValue(b.gflops())));
                    }
                }
            }
            // One label per shape, next to its highest point.
            Map<String, Point> top = new LinkedHashMap<>();
            for (Point p : points) {
                String key = p.width() + "×" + p.batch() + (hasSeveralDepths(p) ? " L" + p.layers() : "");
                Point t = top.get(key);
                if (t == null || p.gflops() > t.gflops()) {
                    top.put(key, p);
                }
            }
            g.setColor(new Color(0x333333));
            double h = fm.getAscent() + fm.getDescent();
            for (Map.Entry<String, Point> e : top.entrySet()) {
                String text = e.getKey();
                double w = fm.stringWidth(text);
                double sx = getXAxisScreenValue(e.getValue().intensity());
                double sy = getYAxisScreenValue(e.getValue().gflops());
                double[][] candidates = {
                    {sx - w / 2, sy - r - h}, {sx + r + 2, sy - h / 2}, {sx - r - 2 - w, sy - h / 2},
                    {sx - w / 2, sy - r - 2 * h}, {sx + r + 2, sy - r - h}, {sx - r - 2 - w, sy - r - h},
                    {sx - w / 2, sy + r}, {sx - w / 2, sy - r - 3 * h},
                };
                Rectangle2D chosen = null;
                for (double[] c : candidates) {
                    Rectangle2D box = new Rectangle2D.Double(c[0], c[1], w, h);
                    if (plot.contains(box) && taken.stream().noneMatch(box::intersects)) {
                        chosen = box;
                        break;
                    }
                }
                if (chosen == null) {
                    chosen = new Rectangle2D.Double(candidates[0][0], candidates[0][1], w, h);
                }
                taken.add(chosen);
                g.drawString(text, (float) chosen.getX(), (float) (chosen.getY() + fm.getAscent()));
            }
            bounds = plot;
        }

        /**
         * Labels 2 and 5 times each power of ten on both log axes, which XChart labels at the powers
         * of ten only (one or two numbers for the range of a sweep).
         */
        private void drawMinorLabels(Graphics2D g, Rectangle2D plot) {
            AxesChartStyler axes = (AxesChartStyler) styler;
            Font font = axes.getAxisTickLabelsFont();
            g.setFont(font.deriveFont(font.getSize2D() - 1f));
            FontMetrics fm = g.getFontMetrics();
            g.setColor(new Color(0x777777));
            DecimalFormat f = new DecimalFormat("#,##0.#");
            double gap = axes.getAxisTickMarkLength() + axes.getAxisTickPadding();
            double base = plot.getMaxY() + gap + fm.getAscent();
            for (double v : minorValues(axes.getXAxisMin(), axes.getXAxisMax())) {
                String text = f.format(v);
                double sx = getXAxisScreenValue(v);
                g.drawString(text, (float) (sx - fm.stringWidth(text) / 2.0), (float) base);
            }
            for (double v : minorValues(axes.getYAxisMin(), axes.getYAxisMax())) {
                String text = f.format(v);
                double sy = getYAxisScreenValue(v);
                g.drawString(text, (float) (plot.getMinX() - gap - fm.stringWidth(text)),
                        (float) (sy + fm.getAscent() / 2.0 - 1));
            }
        }

        private static List<Double> minorValues(double lo, double hi) {
            List<Double> out = new ArrayList<>();
            for (int e = (int) Math.floor(Math.log10(lo)); e <= (int) Math.ceil(Math.log10(hi)); e++) {
                for (int m : new int[] {2, 5}) {
                    double v = m * Math.pow(10, e);
                    if (v > lo && v < hi) {
                        out.add(v);
                    }
                }
            }
            return out;
        }

        private boolean hasSeveralDepths(Point p) {
            return points.stream().anyMatch(q -> q.width() == p.width() && q.batch() == p.batch() && q.layers() != p.layers());
        }
    }

    /** Reads a results file and writes its chart as a PNG. */
    public static void writePng(Path json, Path png) throws IOException {
        JsonNode root = new ObjectMapper().readTree(json.toFile());
        XYChart chart = chart(root, 1200, 760);
        Path parent = png.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        try (OutputStream out = Files.newOutputStream(png)) {
            BitmapEncoder.saveBitmap(chart, out, BitmapEncoder.BitmapFormat.PNG);
        }
    }

    public static void main(String[] args) throws IOException {
        if (args.length < 1 || args.length > 2) {
            System.err.println("usage: CompareChart results.json [out.png]");
            System.exit(2);
        }
        System.setProperty("java.awt.headless", "true");
        Path json = Path.of(args[0]);
        Path png = args.length > 1 ? Path.of(args[1]) : Path.of(args[0].replaceFirst("\\.json$", "") + ".png");
        writePng(json, png);
        System.out.println("wrote " + png);
    }
}
