package dev.checkprop.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import dev.checkprop.train.History;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Writes report maps as indented JSON. */
final class Reports {

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private Reports() {
    }

    static void write(Map<String, Object> report, Path path) throws IOException {
        // Atomic like every other output: a report never replaces a good one half-written.
        byte[] bytes = JSON.writeValueAsBytes(report);
        dev.checkprop.io.AtomicFiles.write(path, bytes);
    }

    static String toJson(Map<String, Object> report) throws IOException {
        return JSON.writeValueAsString(report);
    }

    /** The per-epoch history as report rows (NaN figures, such as accuracy for regression, as null). */
    static List<Map<String, Object>> history(History history) {
        List<Map<String, Object>> rows = new ArrayList<>();
        for (History.Epoch e : history.epochs()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("epoch", e.epoch());
            m.put("step", e.step());
            m.put("train_loss", finite(e.trainLoss()));
            m.put("held_out_loss", finite(e.heldOutLoss()));
            m.put("held_out_accuracy", finite(e.heldOutAccuracy()));
            m.put("seconds", e.seconds());
            m.put("dead_layers", e.deadLayers());
            rows.add(m);
        }
        return rows;
    }

    private static Double finite(double v) {
        return Double.isFinite(v) ? v : null;
    }

    /**
     * Draws the history as a PNG of two charts side by side: training and held-out loss per epoch
     * (log scale when the loss spans more than a factor of 20), and held-out accuracy (classification
     * only). Written atomically.
     *
     * @throws IllegalStateException if XChart (an optional dependency) is not on the class path
     */
    static void plot(History history, Path path, String title) throws IOException {
        try {
            Plot.write(history, path, title);
        } catch (NoClassDefFoundError e) {
            throw new IllegalStateException("--plot needs XChart (org.knowm.xchart:xchart) on the class path; the runnable"
                    + " jar has it", e);
        }
    }

    /** The XChart code, in a class of its own so that a missing XChart fails only here. */
    private static final class Plot {
        private Plot() {
        }

        static void write(History history, Path path, String title) throws IOException {
            List<History.Epoch> epochs = history.epochs();
            if (epochs.isEmpty()) {
                throw new IllegalStateException("--plot: no epoch has ended, nothing to draw");
            }
            double[] x = new double[epochs.size()];
            double[] train = new double[x.length];
            double[] held = new double[x.length];
            double[] acc = new double[x.length];
            boolean hasHeld = false;
            boolean hasAcc = false;
            double lo = Double.POSITIVE_INFINITY;
            double hi = 0;
            for (int i = 0; i < x.length; i++) {
                History.Epoch e = epochs.get(i);
                x[i] = e.epoch();
                train[i] = e.trainLoss();
                held[i] = e.heldOutLoss();
                acc[i] = 100 * e.heldOutAccuracy();
                hasHeld |= !Double.isNaN(e.heldOutLoss());
                hasAcc |= !Double.isNaN(e.heldOutAccuracy());
                for (double v : new double[] {e.trainLoss(), e.heldOutLoss()}) {
                    if (v > 0 && Double.isFinite(v)) {
                        lo = Math.min(lo, v);
                        hi = Math.max(hi, v);
                    }
                }
            }
            final int w = 800;
            final int h = 520;
            org.knowm.xchart.XYChart loss = new org.knowm.xchart.XYChartBuilder().width(w).height(h)
                    .title("Loss per epoch").xAxisTitle("epoch").yAxisTitle("mean loss").build();
            style(loss);
            loss.getStyler().setYAxisLogarithmic(lo > 0 && hi / lo > 20);
            loss.addSeries("training (mean over the epoch's steps)", x, train);
            if (hasHeld) {
                loss.addSeries("held-out (after the epoch)", x, held);
            }
            java.awt.image.BufferedImage left = org.knowm.xchart.BitmapEncoder.getBufferedImage(loss);
            java.awt.image.BufferedImage right = null;
            if (hasAcc) {
                org.knowm.xchart.XYChart accuracy = new org.knowm.xchart.XYChartBuilder().width(w).height(h)
                        .title("Held-out accuracy per epoch").xAxisTitle("epoch").yAxisTitle("accuracy (%)").build();
                style(accuracy);
                // Accuracy climbs towards the top right: the legend goes below it.
                accuracy.getStyler().setLegendPosition(org.knowm.xchart.style.Styler.LegendPosition.InsideSE);
                accuracy.getStyler().setYAxisMax(100.0);
                accuracy.addSeries("held-out accuracy", x, acc);
                right = org.knowm.xchart.BitmapEncoder.getBufferedImage(accuracy);
            }
            final int top = 36;
            java.awt.image.BufferedImage img = new java.awt.image.BufferedImage(right == null ? w : 2 * w, h + top,
                    java.awt.image.BufferedImage.TYPE_INT_RGB);
            java.awt.Graphics2D g = img.createGraphics();
            g.setRenderingHint(java.awt.RenderingHints.KEY_TEXT_ANTIALIASING, java.awt.RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setColor(java.awt.Color.WHITE);
            g.fillRect(0, 0, img.getWidth(), img.getHeight());
            g.setColor(java.awt.Color.DARK_GRAY);
            g.setFont(new java.awt.Font(java.awt.Font.SANS_SERIF, java.awt.Font.PLAIN, 15));
            String heading = title.length() > 150 ? title.substring(0, 147) + "..." : title;
            g.drawString(heading, 12, 24);
            g.drawImage(left, 0, top, null);
            if (right != null) {
                g.drawImage(right, w, top, null);
            }
            g.dispose();
            java.io.ByteArrayOutputStream png = new java.io.ByteArrayOutputStream();
            if (!javax.imageio.ImageIO.write(img, "png", png)) {
                throw new IOException(path + ": this JVM has no PNG writer");
            }
            dev.checkprop.io.AtomicFiles.write(path, png.toByteArray());
        }

        private static void style(org.knowm.xchart.XYChart chart) {
            org.knowm.xchart.style.XYStyler s = chart.getStyler();
            s.setLegendPosition(org.knowm.xchart.style.Styler.LegendPosition.InsideNE);
            s.setChartBackgroundColor(java.awt.Color.WHITE);
            s.setPlotGridLinesVisible(true);
            s.setMarkerSize(6);
            s.setXAxisDecimalPattern("#");
            s.setAntiAlias(true);
        }
    }

    /**
     * The report's {@code tiers} section: per tier what the run moved and held (the executor's counts),
     * the slots predicted, and what the JVM and the file system say the tiers took (the direct-buffer
     * pool's growth while the executor was built, the spill file's size).
     */
    static Map<String, Object> tiers(dev.checkprop.exec.RunStats run, dev.checkprop.memory.MemoryModel.TierBytes t,
                                     long directDelta, long spillFileBytes, Path spillDir) {
        Map<String, Object> r = new java.util.LinkedHashMap<>();
        for (dev.checkprop.plan.Tier tier : dev.checkprop.plan.Tier.values()) {
            Map<String, Object> e = new java.util.LinkedHashMap<>();
            e.put("bytes_written", run.bytesWritten(tier));
            e.put("bytes_read", run.bytesRead(tier));
            e.put("peak_copies", run.peakCopies(tier));
            e.put("peak_copy_bytes", run.peakBytes(tier));
            e.put("slot_bytes_predicted", tier == dev.checkprop.plan.Tier.OFF_HEAP ? t.offHeapBytes() : t.diskBytes());
            r.put(tier.text(), e);
        }
        r.put("staging_bytes_predicted", t.stagingBytes());
        r.put("direct_bytes_predicted", t.directBytes());
        r.put("direct_bytes_measured", directDelta);
        r.put("spill_file_bytes_measured", spillFileBytes);
        r.put("spill_dir", spillDir.toString());
        r.put("io_wait_seconds", run.ioWaitNanos() / 1e9);
        r.put("io_busy_seconds", run.ioBusyNanos() / 1e9);
        return r;
    }

    /** One console line for a tiered run: bytes moved per tier, the wait, and the direct memory and file as measured. */
    static String tierLine(dev.checkprop.exec.RunStats run, dev.checkprop.memory.MemoryModel.TierBytes t, long directDelta,
                           long spillFileBytes) {
        StringBuilder sb = new StringBuilder("tiers:");
        for (dev.checkprop.plan.Tier tier : dev.checkprop.plan.Tier.values()) {
            sb.append(String.format(java.util.Locale.ROOT, " %s %s written, %s read (peak %d copies);", tier.text(),
                    dev.checkprop.plan.Planners.humanBytes(run.bytesWritten(tier)),
                    dev.checkprop.plan.Planners.humanBytes(run.bytesRead(tier)), run.peakCopies(tier)));
        }
        sb.append(String.format(java.util.Locale.ROOT, " waited %.3f s for I/O (busy %.3f s); direct memory %s"
                        + " (predicted %s), spill file %s (predicted %s)", run.ioWaitNanos() / 1e9, run.ioBusyNanos() / 1e9,
                dev.checkprop.plan.Planners.humanBytes(directDelta), dev.checkprop.plan.Planners.humanBytes(t.directBytes()),
                dev.checkprop.plan.Planners.humanBytes(spillFileBytes), dev.checkprop.plan.Planners.humanBytes(t.diskBytes())));
        return sb.toString();
    }
}
