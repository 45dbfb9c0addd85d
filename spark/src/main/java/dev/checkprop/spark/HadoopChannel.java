package dev.checkprop.spark;

import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.NonWritableChannelException;
import java.nio.channels.SeekableByteChannel;

/**
 * A read-only {@link SeekableByteChannel} over a file of any Hadoop {@link FileSystem}, so that the
 * library's readers of row ranges ({@code IdxLoader.readRows}), written for channels, read HDFS or
 * S3 as they read a local file: positioned reads of what is asked for, nothing more.
 */
final class HadoopChannel implements SeekableByteChannel {

    private final FSDataInputStream in;
    private final long size;
    private long position;
    private byte[] scratch = new byte[0];

    HadoopChannel(String path) throws IOException {
        FileSystem fs = SafeTensorsRows.fs(path);
        Path p = new Path(path);
        this.size = fs.getFileStatus(p).getLen();
        this.in = fs.open(p);
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        if (position >= size) {
            return -1;
        }
        int n = (int) Math.min(dst.remaining(), Math.min(size - position, 1 << 16));
        if (scratch.length < n) {
            scratch = new byte[n];
        }
        in.readFully(position, scratch, 0, n);
        dst.put(scratch, 0, n);
        position += n;
        return n;
    }

    @Override
    public int write(ByteBuffer src) {
        throw new NonWritableChannelException();
    }

    @Override
    public long position() {
        return position;
    }

    @Override
    public SeekableByteChannel position(long newPosition) {
        position = newPosition;
        return this;
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public SeekableByteChannel truncate(long size) {
        throw new NonWritableChannelException();
    }

    @Override
    public boolean isOpen() {
        return true;
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}
