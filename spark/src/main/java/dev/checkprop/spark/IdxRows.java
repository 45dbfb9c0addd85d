package dev.checkprop.spark;

import dev.checkprop.data.IdxLoader;
import dev.checkprop.nn.Batch;
import dev.checkprop.nn.Loss;

import java.io.IOException;

/**
 * An IDX images file with its labels file (MNIST's layout), as {@code train --data IMAGES
 * --idx-labels LABELS} reads them: unsigned-byte pixels scaled to [0, 1], K one more than the
 * largest label. The driver checks both headers and every label ({@link IdxLoader#check}, the
 * whole-file checks and messages); a partition reads its samples' bytes of both files
 * ({@link IdxLoader#readRows}: fixed-size samples, so their offsets are known).
 */
record IdxRows(String images, String labels, IdxLoader.Pair pair) implements ShardData {

    /** What {@code DataOptions} passes: train and eval scale unsigned-byte images to [0, 1]. */
    static final boolean SCALE = true;

    static IdxRows open(String images, String labels) throws IOException {
        try (HadoopChannel i = new HadoopChannel(images); HadoopChannel l = new HadoopChannel(labels)) {
            return new IdxRows(images, labels, IdxLoader.check(i, images, l, labels, SCALE));
        }
    }

    @Override
    public String name() {
        return images;
    }

    @Override
    public String key() {
        return "idx#" + images + "#" + labels;
    }

    @Override
    public int rows() {
        return pair.samples();
    }

    @Override
    public Batch read(int from, int to, Loss loss, String where) throws IOException {
        if (loss != Loss.SOFTMAX_CROSS_ENTROPY) {
            throw new IllegalArgumentException(where + ": IDX data has labels, for --loss softmax-ce, not targets for "
                    + loss.cliName());
        }
        try (HadoopChannel i = new HadoopChannel(images); HadoopChannel l = new HadoopChannel(labels)) {
            return IdxLoader.readRows(i, images, l, labels, pair, SCALE, from, to).toBatch();
        } catch (IOException e) {
            throw new dev.checkprop.data.DataFormatException(where + ": " + e.getMessage());
        }
    }
}
