package dev.checkprop.bench;

import org.knowm.xchart.AnnotationLine;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.internal.chartpart.Annotation;
import org.knowm.xchart.style.AxesChartStyler;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.XYStyler;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Rectangle2D;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.DecimalFormat;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The trade-off plot: time per step relative to full storage (y) against peak activation memory
 * (x, MiB, log scale), one colour per network, every plan a point labelled with its plan string in
 * the network's colour, each network's Pareto front drawn as a line through its Pareto-optimal
 * points, and a dashed line at 1 (full storage). Drawn with XChart and written as PNG through
 * {@link BitmapEncoder}, which needs no display (the report sets {@code java.awt.headless=true}).
 */
public final class TradeoffChart {

    private static final Color[] PALETTE = {
        new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c), new Color(0x9467bd),
        new Color(0xff7f0e), new Color(0x8c564b), new Color(0xe377c2), new Color(0x17becf),
    };

    private static final double MIB = 1024.0 * 1024.0;
    private static final int LABEL_FONT_SIZE = 12;
    private static final BasicStroke DASHED = new BasicStroke(1f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f,
            new float[] {6f, 4f}, 0f);

    private TradeoffChart() {
    }

    /** A point's label, to be placed. */
    private record Label(String text, double x, double y, Color colour) {
    }

    /**
     * Builds the chart for the groups that have a full-storage row (the others have no relative
     * time and are left out).
     */
    public static XYChart chart(List<Tradeoff.Group> groups, int width, int height) {
        Map<String, String> common = commonParameters(groups);
        StringBuilder title = new StringBuilder("Time per training step vs peak activation memory");
        if (!common.isEmpty()) {
            title.append(" (");
            String sep = "";
            for (Map.Entry<String, String> e : common.entrySet()) {
                title.append(sep).append(e.getKey()).append(' ').append(e.getValue());
                sep = ", ";
            }
            title.append(')');
        }
        XYChart chart = new XYChartBuilder().width(width).height(height)
                .title(title.toString())
                .xAxisTitle("peak activation memory (MiB, log scale)")
                .yAxisTitle("time per step / time with full storage")
                .build();
        XYStyler st = chart.getStyler();
        st.setXAxisLogarithmic(true);
        st.setXAxisDecimalPattern("#,##0.###");
        st.setYAxisDecimalPattern("0.0#");
        st.setLegendPosition(Styler.LegendPosition.InsideNE);
        st.setLegendBackgroundColor(new Color(255, 255, 255, 230));
        st.setChartBackgroundColor(Color.WHITE);
        st.setPlotBackgroundColor(Color.WHITE);
        st.setPlotGridLinesColor(new Color(0xdddddd));
        st.setChartTitleFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
        st.setAxisTitleFont(new Font(Font.SANS_SERIF, Font.PLAIN, 14));
        st.setAxisTickLabelsFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        st.setLegendFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
        st.setAnnotationTextFont(new Font(Font.SANS_SERIF, Font.PLAIN, LABEL_FONT_SIZE));
        st.setMarkerSize(9);

        double minX = Double.POSITIVE_INFINITY;
        double maxX = 0;
        double maxY = 1;
        int colour = 0;
        List<Label> labels = new ArrayList<>();
        for (Tradeoff.Group g : groups) {
            List<Tradeoff.Row> rows = new ArrayList<>();
            for (Tradeoff.Row r : g.rows()) {
                if (!Double.isNaN(r.relative()) && r.point().peakBytes() > 0) {
                    rows.add(r);
                }
            }
            if (rows.isEmpty()) {
                continue;
            }
            Color c = PALETTE[colour++ % PALETTE.length];
            double[] x = new double[rows.size()];
            double[] y = new double[rows.size()];
            for (int i = 0; i < rows.size(); i++) {
                x[i] = rows.get(i).point().peakBytes() / MIB;
                y[i] = rows.get(i).relative();
                minX = Math.min(minX, x[i]);
                maxX = Math.max(maxX, x[i]);
                maxY = Math.max(maxY, y[i]);
                labels.add(new Label(rows.get(i).point().resolved(), x[i], y[i], c.darker()));
            }
            String name = legendName(g, common);
            XYSeries points = chart.addSeries(name, x, y);
            points.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
            points.setMarker(SeriesMarkers.CIRCLE);
            points.setMarkerColor(c);
            points.setLineColor(c);

            List<Tradeoff.Row> front = new ArrayList<>();
            for (Tradeoff.Row r : g.front()) {
                if (rows.contains(r)) {
                    front.add(r);
                }
            }
            if (front.size() >= 2) {
                double[] fx = new double[front.size()];
                double[] fy = new double[front.size()];
                for (int i = 0; i < front.size(); i++) {
                    fx[i] = front.get(i).point().peakBytes() / MIB;
                    fy[i] = front.get(i).relative();
                }
                XYSeries line = chart.addSeries(name + ": Pareto front", fx, fy);
                line.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
                line.setMarker(SeriesMarkers.NONE);
                line.setLineColor(c);
                line.setLineStyle(new BasicStroke(2f));
                line.setShowInLegend(false);
            }
        }
        if (maxX > 0) {
            double xMin = minX / 1.6;
            double xMax = maxX * 1.6;
            double yMax = Math.ceil(maxY * 1.15 * 2) / 2;
            st.setXAxisMin(xMin);
            st.setXAxisMax(xMax);
            st.setYAxisMin(0.0);
            st.setYAxisMax(yMax);
            // Full storage's time: the reference every ratio is taken against.
            st.setAnnotationLineColor(new Color(0x888888));
            st.setAnnotationLineStroke(DASHED);
            chart.addAnnotation(new AnnotationLine(1.0, false, false));
            chart.addAnnotation(new PointLabels(labels));
        }
        return chart;
    }

    /**
     * The plan names next to their points, each in its network's colour, placed at paint time in
     * screen space: the first of above, right, below, left, then further above and below, that
     * overlaps neither a point nor a label placed before and stays inside the plot.
     */
    private static final class PointLabels extends Annotation {
        private final List<Label> labels;

        PointLabels(List<Label> labels) {
            super(false);
            this.labels = labels;
        }

        @Override
        public void paint(Graphics2D g) {
            Object hint = g.getRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING);
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setFont(styler.getAnnotationTextFont());
            FontMetrics fm = g.getFontMetrics();
            Rectangle2D plot = new Rectangle2D.Double(getXAxisScreenValueForMin(), getYAxisScreenValueForMin(),
                    getXAxisScreenValueForMax() - getXAxisScreenValueForMin(),
                    getYAxisScreenValueForMax() - getYAxisScreenValueForMin());
            final double r = 6; // marker radius and gap
            List<Rectangle2D> taken = new ArrayList<>();
            for (Label l : labels) {
                taken.add(new Rectangle2D.Double(getXAxisScreenValue(l.x()) - r, getYAxisScreenValue(l.y()) - r,
                        2 * r, 2 * r));
            }
            taken.add(drawKey(g, fm, plot));
            drawMinorXLabels(g, plot);
            for (Label l : labels) {
                double sx = getXAxisScreenValue(l.x());
                double sy = getYAxisScreenValue(l.y());
                double w = fm.stringWidth(l.text());
                double h = fm.getAscent() + fm.getDescent();
                double[][] candidates = {
                    {sx - w / 2, sy - r - h},         // above
                    {sx + r + 2, sy - h / 2},         // right
                    {sx - w / 2, sy + r},             // below
                    {sx - r - 2 - w, sy - h / 2},     // left
                    {sx - w / 2, sy - r - 2 * h},     // further above
                    {sx - w / 2, sy + r + h},         // further below
                    {sx + r + 2, sy - r - h},         // above right
                    {sx - r - 2 - w, sy - r - h},     // above left
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
                g.setColor(l.colour());
                g.drawString(l.text(), (float) chosen.getX(), (float) (chosen.getY() + fm.getAscent()));
            }
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, hint);
            bounds = plot;
        }

        /**
         * Labels 2 and 5 times each power of ten under the log x axis, which XChart labels at the
         * powers of ten only: with a range of two decades that would be three numbers.
         */
        private void drawMinorXLabels(Graphics2D g, Rectangle2D plot) {
            AxesChartStyler axes = (AxesChartStyler) styler;
            Font font = axes.getAxisTickLabelsFont();
            Font minor = font.deriveFont(font.getSize2D() - 1f);
            g.setFont(minor);
            FontMetrics fm = g.getFontMetrics();
            double base = plot.getMaxY() + axes.getAxisTickMarkLength() + axes.getAxisTickPadding() + fm.getAscent();
            g.setColor(new Color(0x777777));
            double lo = axes.getXAxisMin();
            double hi = axes.getXAxisMax();
            for (int e = (int) Math.floor(Math.log10(lo)); e <= (int) Math.ceil(Math.log10(hi)); e++) {
                for (int m : new int[] {2, 5}) {
                    double v = m * Math.pow(10, e);
                    if (v > lo && v < hi) {
                        String text = new DecimalFormat("#,##0.###").format(v);
                        double sx = getXAxisScreenValue(v);
                        g.drawString(text, (float) (sx - fm.stringWidth(text) / 2.0), (float) base);
                    }
                }
            }
            g.setFont(styler.getAnnotationTextFont());
        }

        /** The key to the two kinds of line, in the plot's bottom-right corner; answers its box. */
        private Rectangle2D drawKey(Graphics2D g, FontMetrics fm, Rectangle2D plot) {
            String[] text = {"Pareto front of each depth", "full storage (ratio 1)"};
            double sample = 28;
            double pad = 8;
            double lineH = fm.getAscent() + fm.getDescent() + 4;
            double w = sample + pad + Math.max(fm.stringWidth(text[0]), fm.stringWidth(text[1])) + 2 * pad;
            double h = 2 * lineH + 2 * pad;
            Rectangle2D box = new Rectangle2D.Double(plot.getMaxX() - w - 10, plot.getMaxY() - h - 10, w, h);
            g.setColor(Color.WHITE);
            g.fill(box);
            g.setColor(new Color(0xaaaaaa));
            g.setStroke(new BasicStroke(1f));
            g.draw(box);
            for (int i = 0; i < 2; i++) {
                double y = box.getY() + pad + i * lineH + lineH / 2;
                g.setColor(i == 0 ? new Color(0x444444) : new Color(0x888888));
                g.setStroke(i == 0 ? new BasicStroke(2f) : DASHED);
                g.drawLine((int) (box.getX() + pad), (int) y, (int) (box.getX() + pad + sample), (int) y);
                g.setColor(new Color(0x333333));
                g.drawString(text[i], (float) (box.getX() + 2 * pad + sample),
                        (float) (y - (fm.getAscent() + fm.getDescent()) / 2.0 + fm.getAscent()));
            }
            return box;
        }
    }

    /** Parameters (other than the depth) with one value in every group: said once, in the title. */
    private static Map<String, String> commonParameters(List<Tradeoff.Group> groups) {
        Map<String, String> common = new LinkedHashMap<>();
        if (groups.isEmpty()) {
            return common;
        }
        common.putAll(groups.get(0).others());
        for (Tradeoff.Group g : groups) {
            common.entrySet().removeIf(e -> !Objects.equals(g.others().get(e.getKey()), e.getValue()));
        }
        return common;
    }

    private static String legendName(Tradeoff.Group g, Map<String, String> common) {
        StringBuilder b = new StringBuilder("L = ").append(g.layers());
        String sep = " (";
        for (Map.Entry<String, String> e : g.others().entrySet()) {
            if (!common.containsKey(e.getKey())) {
                b.append(sep).append(e.getKey()).append(' ').append(e.getValue());
                sep = ", ";
            }
        }
        return sep.equals(", ") ? b.append(')').toString() : b.toString();
    }

    /** Writes the chart as a PNG. */
    public static void writePng(List<Tradeoff.Group> groups, Path png) throws IOException {
        XYChart chart = chart(groups, 1100, 700);
        Path parent = png.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        try (OutputStream out = Files.newOutputStream(png)) {
            BitmapEncoder.saveBitmap(chart, out, BitmapEncoder.BitmapFormat.PNG);
        }
    }
}
