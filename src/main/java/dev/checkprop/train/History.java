package dev.checkprop.train;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

/**
 * What a {@link Training} run did, epoch by epoch: an immutable snapshot ({@link Training#history()}
 * answers a new one each time). A resumed run's history continues the checkpointed one, so it equals
 * an uninterrupted run's in every loss and accuracy bit ({@code seconds} aside).
 */
public final class History {

    /**
     * One epoch.
     *
     * @param epoch           1-based
     * @param step            steps taken when it ended (global, from 0)
     * @param trainLoss       mean of its steps' mini-batch losses
     * @param heldOutLoss     mean loss on the held-out samples after the epoch, NaN without held-out data
     * @param heldOutAccuracy argmax accuracy on them, NaN for regression or without held-out data
     * @param seconds         wall-clock time of the epoch (its steps and the evaluation)
     * @param deadLayers      layers (1-based) whose units all had f' = 0 on the epoch's last batch, when
     *                        {@link Training#diagnoseDeadLayers} is on; else empty
     */
    public record Epoch(int epoch, long step, double trainLoss, double heldOutLoss, double heldOutAccuracy, double seconds,
                        List<Integer> deadLayers) {

        /** Copies the list. */
        public Epoch {
            deadLayers = List.copyOf(deadLayers);
        }

        /** One line, as the command line prints it. */
        @Override
        public String toString() {
            StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "epoch %3d  train loss %.4f", epoch, trainLoss));
            if (!Double.isNaN(heldOutLoss)) {
                sb.append(String.format(Locale.ROOT, "  held-out loss %.4f", heldOutLoss));
            }
            if (!Double.isNaN(heldOutAccuracy)) {
                sb.append(String.format(Locale.ROOT, "  accuracy %.2f%%", 100 * heldOutAccuracy));
            }
            sb.append(String.format(Locale.ROOT, "  %.1f s", seconds));
            if (!deadLayers.isEmpty()) {
                sb.append("  ").append(deadLayers.size()).append(" dead layers");
            }
            return sb.toString();
        }

        /** The figure early stopping watches: the held-out loss, or the training loss without held-out data. */
        double monitored() {
            return Double.isNaN(heldOutLoss) ? trainLoss : heldOutLoss;
        }
    }

    private final List<Epoch> epochs;
    private final boolean stoppedEarly;

    History(List<Epoch> epochs, boolean stoppedEarly) {
        this.epochs = Collections.unmodifiableList(new ArrayList<>(epochs));
        this.stoppedEarly = stoppedEarly;
    }

    /** Answers the epochs so far, in order. */
    public List<Epoch> epochs() {
        return epochs;
    }

    /** Answers the last epoch, or null before the first ended. */
    public Epoch last() {
        return epochs.isEmpty() ? null : epochs.get(epochs.size() - 1);
    }

    /** Answers the epoch with the lowest held-out loss (training loss without held-out data; the first of ties), or null. */
    public Epoch best() {
        return best(epochs);
    }

    static Epoch best(List<Epoch> epochs) {
        Epoch best = null;
        for (Epoch e : epochs) {
            if (best == null || e.monitored() < best.monitored()) {
                best = e;
            }
        }
        return best;
    }

    /** Whether early stopping ended the run before its last epoch. */
    public boolean stoppedEarly() {
        return stoppedEarly;
    }

    /** One line per epoch, and the best one. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("History[").append(epochs.size()).append(" epochs");
        if (stoppedEarly) {
            sb.append(", stopped early");
        }
        if (best() != null) {
            sb.append(", best epoch ").append(best().epoch());
        }
        sb.append(']');
        for (Epoch e : epochs) {
            sb.append('\n').append(e);
        }
        return sb.toString();
    }

    /** The history as text with every double's exact bits ({@link Double#toHexString}): one epoch per line. */
    static String encode(List<Epoch> epochs) {
        StringBuilder sb = new StringBuilder();
        for (Epoch e : epochs) {
            if (sb.length() > 0) {
                sb.append(';');
            }
            sb.append(e.epoch()).append(',').append(e.step()).append(',').append(Double.toHexString(e.trainLoss())).append(',')
                    .append(Double.toHexString(e.heldOutLoss())).append(',').append(Double.toHexString(e.heldOutAccuracy()))
                    .append(',').append(Double.toHexString(e.seconds())).append(',');
            for (int i = 0; i < e.deadLayers().size(); i++) {
                sb.append(i == 0 ? "" : " ").append(e.deadLayers().get(i));
            }
        }
        return sb.toString();
    }

    /** Reads {@link #encode}'s text. */
    static List<Epoch> decode(String text) {
        List<Epoch> out = new ArrayList<>();
        if (text.isEmpty()) {
            return out;
        }
        for (String line : text.split(";", -1)) {
            String[] f = line.split(",", -1);
            if (f.length != 7) {
                throw new IllegalArgumentException("history entry '" + line + "' has " + f.length + " fields, expected 7");
            }
            List<Integer> dead = new ArrayList<>();
            if (!f[6].isEmpty()) {
                for (String d : f[6].split(" ")) {
                    dead.add(Integer.parseInt(d));
                }
            }
            out.add(new Epoch(Integer.parseInt(f[0]), Long.parseLong(f[1]), Double.parseDouble(f[2]), Double.parseDouble(f[3]),
                    Double.parseDouble(f[4]), Double.parseDouble(f[5]), dead));
        }
        return out;
    }
}
