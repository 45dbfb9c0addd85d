package dev.checkprop.spark;

import dev.checkprop.nn.Loss;

import java.io.IOException;
import java.io.Serializable;
import java.util.Locale;

/**
 * A data file for {@link SparkShards} and {@link LocalShards}, in one of the formats the library's
 * {@code train --data} reads, at a path every executor can read through Hadoop's FileSystem
 * ({@code hdfs://}, {@code s3a://}, a shared mount, or a local file in local mode). Each partition
 * reads only its own rows:
 * <ul>
 *   <li>{@link #safetensors}: {@code x} and {@code y} or {@code labels}, the layout of
 *       {@code ModelFile.loadData}; x and y F32, or F16, BF16, F64 converted to F32 exactly as the
 *       library converts them; labels I32 or I64. Read by byte offset.</li>
 *   <li>{@link #csv}: {@code CsvLoader}'s format, the last column the label, or the last
 *       {@code targets} columns the regression targets. Indexed once on the driver in one streaming
 *       pass that also checks every value; then read from each shard's first byte.</li>
 *   <li>{@link #idx}: an IDX images file (unsigned bytes scaled to [0, 1], as {@code train} reads
 *       them) and its labels file. Read by byte offset.</li>
 * </ul>
 * Whatever the format, shard j holds the rows {@code grad --shards K} gives it, with the values the
 * single-machine loader reads, bit for bit.
 */
public final class DataFile implements Serializable {

    private static final long serialVersionUID = 1L;

    private final String path;
    private final String labels;
    private final int targets;
    private final char format;

    private DataFile(String path, String labels, int targets, char format) {
        this.path = path;
        this.labels = labels;
        this.targets = targets;
        this.format = format;
    }

    /** A safetensors data file (x, and y or labels: which one the loss says). */
    public static DataFile safetensors(String path) {
        return new DataFile(path, null, 0, 's');
    }

    /**
     * A CSV file: classification by the last column when {@code targets} is 0, else regression on
     * the last {@code targets} columns ({@code train --targets}).
     */
    public static DataFile csv(String path, int targets) {
        if (targets < 0) {
            throw new IllegalArgumentException("--targets must be >= 0, got " + targets);
        }
        return new DataFile(path, null, targets, 'c');
    }

    /** An IDX images file and its IDX labels file ({@code train --data IMAGES --idx-labels LABELS}). */
    public static DataFile idx(String images, String labels) {
        return new DataFile(images, labels, 0, 'i');
    }

    /**
     * The file the single-machine options name, by the rule of {@code train --data}: IDX when
     * {@code idxLabels} is given, else by the name's extension, {@code .safetensors} or {@code .csv}.
     *
     * @param idxLabels the {@code --idx-labels} file, or null
     * @param targets   {@code --targets}: CSV regression targets, 0 for classification
     */
    public static DataFile of(String data, String idxLabels, int targets) {
        if (idxLabels != null) {
            return idx(data, idxLabels);
        }
        String name = new org.apache.hadoop.fs.Path(data).getName().toLowerCase(Locale.ROOT);
        if (name.endsWith(".safetensors")) {
            return safetensors(data);
        }
        if (name.endsWith(".csv")) {
            return csv(data, targets);
        }
        throw new IllegalArgumentException(data + ": unknown data format (expected .safetensors, .csv, or IDX with --idx-labels)");
    }

    /** Answers the path (the images file for IDX). */
    public String path() {
        return path;
    }

    /** Opens the file on the driver for {@code shards} shards: its header or index, checked. */
    ShardData open(Loss loss, int shards) throws IOException {
        return switch (format) {
            case 's' -> {
                SafeTensorsRows st = SafeTensorsRows.open(path);
                st.rows(loss);
                yield st;
            }
            case 'c' -> CsvRows.open(path, targets, shards);
            default -> IdxRows.open(path, labels);
        };
    }

    @Override
    public String toString() {
        return labels == null ? path : path + " with labels " + labels;
    }
}
