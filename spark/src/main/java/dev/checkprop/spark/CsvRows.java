package dev.checkprop.spark;

import dev.checkprop.data.CsvLoader;
import dev.checkprop.nn.Batch;
import dev.checkprop.nn.Loss;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.Path;

import java.io.IOException;

/**
 * A CSV file as {@code train --data D.csv [--targets T]} reads it ({@code CsvLoader.classification(-1)},
 * the last column the label, or {@code CsvLoader.regression(T)}). Rows have no fixed size, so the
 * driver indexes the file in one streaming pass ({@link CsvLoader#index}, which checks every value
 * as the single-machine loader does, with its messages) and keeps, of that index, only where each
 * of the K shards begins: its byte offset and line. A partition seeks there and parses its rows
 * ({@link CsvLoader#readRows}): the rows of the single-machine load, in order, parsed by the same code.
 */
final class CsvRows implements ShardData {

    private static final long serialVersionUID = 1L;

    private final String path;
    private final int targets;
    private final int columns;
    private final int classes;
    private final int rows;
    private final int[] starts;
    private final long[] offsets;
    private final int[] lines;

    private CsvRows(String path, int targets, int columns, int classes, int rows, int[] starts, long[] offsets, int[] lines) {
        this.path = path;
        this.targets = targets;
        this.columns = columns;
        this.classes = classes;
        this.rows = rows;
        this.starts = starts;
        this.offsets = offsets;
        this.lines = lines;
    }

    static CsvLoader loader(int targets) {
        return targets > 0 ? CsvLoader.regression(targets) : CsvLoader.classification(-1);
    }

    /** Indexes {@code path} on the driver, keeping where each of the {@code shards} shards starts. */
    static CsvRows open(String path, int targets, int shards) throws IOException {
        CsvLoader.RowIndex index;
        try (FSDataInputStream in = SafeTensorsRows.fs(path).open(new Path(path))) {
            index = loader(targets).index(in, path);
        }
        int n = index.rows();
        int[] starts = new int[shards];
        long[] offsets = new long[shards];
        int[] lines = new int[shards];
        for (int j = 0; j < shards; j++) {
            starts[j] = dev.checkprop.exec.Shards.from(n, shards, j);
            if (starts[j] < n) {
                offsets[j] = index.rowOffsets()[starts[j]];
                lines[j] = index.rowLines()[starts[j]];
            }
        }
        return new CsvRows(path, targets, index.columns(), index.classes(), n, starts, offsets, lines);
    }

    @Override
    public String key() {
        // The same file read as classification and as regression gives other rows.
        return "csv#" + targets + "#" + path;
    }

    @Override
    public String name() {
        return path;
    }

    @Override
    public int rows() {
        return rows;
    }

    @Override
    public Batch read(int from, int to, Loss loss, String where) throws IOException {
        int j = java.util.Arrays.binarySearch(starts, from);
        if (j < 0) {
            throw new IllegalStateException(where + ": row " + from + " does not start a shard");
        }
        while (j > 0 && starts[j - 1] == from) {
            j--;
        }
        try (FSDataInputStream in = SafeTensorsRows.fs(path).open(new Path(path))) {
            in.seek(offsets[j]);
            return loader(targets).readRows(in, path, columns, classes, from, lines[j], to - from).toBatch();
        } catch (IOException e) {
            throw new dev.checkprop.data.DataFormatException(where + ": " + e.getMessage());
        }
    }
}
