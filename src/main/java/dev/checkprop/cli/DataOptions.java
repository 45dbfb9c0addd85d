package dev.checkprop.cli;

import dev.checkprop.data.CsvLoader;
import dev.checkprop.data.Dataset;
import dev.checkprop.data.IdxLoader;
import dev.checkprop.data.SafeTensorsData;
import dev.checkprop.data.Synthetic;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;

/** Loads the dataset the {@code train} and {@code eval} options name. */
final class DataOptions {

    /**
     * The built-in tasks' defaults, shared by {@code train} and {@code eval} so that evaluating a
     * trained model on its task's held-out split reproduces the figure {@code train} printed.
     */
    static final String DEFAULT_SAMPLES = "4000";
    /** Turns of each spiral. */
    static final String DEFAULT_TURNS = "1";
    /** The fraction {@code train} holds out, split by {@code --seed}. */
    static final String DEFAULT_HELD_OUT = "0.2";

    private DataOptions() {
    }

    /** Names the data for messages: the file, or the task. */
    static String describe(String task, Path data) {
        return data != null ? data.toString() : "--task " + (task == null ? "spirals" : task);
    }

    /**
     * Answers the part of {@code all} that {@code split} names: {@code all}, or the {@code train} or
     * {@code held-out} part of the split {@code train} makes with the same fraction and seed.
     */
    static Dataset part(Dataset all, String split, double heldOut, long seed) {
        String s = split.toLowerCase(Locale.ROOT);
        if (s.equals("all")) {
            return all;
        }
        if (!s.equals("held-out") && !s.equals("train")) {
            throw new IllegalArgumentException("--split must be all, train or held-out, got '" + split + "'");
        }
        Dataset.Split parts = all.split(heldOut, seed);
        return s.equals("train") ? parts.train() : parts.heldOut();
    }

    static Dataset load(String task, Path data, Path idxLabels, int targets, int samples, long seed, int turns)
            throws IOException {
        if (task != null && data != null) {
            throw new IllegalArgumentException("give either --task or --data, not both");
        }
        if (data == null) {
            String t = task == null ? "spirals" : task.toLowerCase(Locale.ROOT);
            // The dataset, its training/held-out split and the batcher each hold the samples once.
            if (samples < 1) {
                throw new IllegalArgumentException("--samples must be >= 1, got " + samples);
            }
            long perSample = t.equals("teacher") ? 16 + 4 : 2 + 1;
            dev.checkprop.memory.Preflight.dataset("--samples " + samples, samples, perSample, 3);
            return switch (t) {
                case "spirals" -> Synthetic.spirals(samples, turns, 0.02, seed);
                case "teacher" -> Synthetic.teacher(samples, 16, 4, 32, 3, seed);
                default -> throw new IllegalArgumentException("unknown task '" + task + "' (expected spirals or teacher)");
            };
        }
        String name = data.getFileName().toString().toLowerCase(Locale.ROOT);
        if (idxLabels != null) {
            return IdxLoader.loadImagesAndLabels(data, idxLabels, true);
        }
        if (name.endsWith(".safetensors")) {
            // The file says which task it holds (labels or y); --targets asks for regression explicitly.
            return targets == 0 ? SafeTensorsData.load(data) : SafeTensorsData.load(data, false);
        }
        if (name.endsWith(".csv")) {
            return targets > 0 ? CsvLoader.regression(targets).load(data) : CsvLoader.classification(-1).load(data);
        }
        throw new IllegalArgumentException(data + ": unknown data format (expected .safetensors, .csv, or IDX with --idx-labels)");
    }
}
