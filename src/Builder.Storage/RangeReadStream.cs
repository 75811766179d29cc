namespace Builder.Storage;

/// <summary>
/// A seekable, read-only view of a remote object of known length, read in byte ranges: the first range is opened by the
/// caller (so a missing object or an unreachable server shows before anything is answered), later ones on demand, each
/// twice as long as the one before (up to 16 MiB). A seek costs nothing; the read after it opens a range from there, so
/// an HTTP Range request reads only what it asks for, and a whole download takes a handful of requests.
/// </summary>
internal sealed class RangeReadStream(long length, Stream first, long firstEnd, Func<long, long, CancellationToken, Task<Stream>> openRange) : Stream
{
    private const long MaxChunk = 16L * 1024 * 1024;

    private Stream? _current = first;
    private long _currentEnd = firstEnd;
    private long _chunk = Math.Max(firstEnd, 64 * 1024);
    private long _position;

    public override bool CanRead => true;

    public override bool CanSeek => true;

    public override bool CanWrite => false;

    public override long Length => length;

    public override long Position
    {
        get => _position;
        set => Seek(value, SeekOrigin.Begin);
    }

    public override long Seek(long offset, SeekOrigin origin)
    {
        var target = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            _ => length + offset,
        };
        ArgumentOutOfRangeException.ThrowIfNegative(target, nameof(offset));
        if (target != _position)
        {
            // The open range reads from where the stream was: the next read opens one from the new position.
            _current?.Dispose();
            _current = null;
            _position = target;
        }

        return _position;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_position >= length || buffer.Length == 0)
        {
            return 0;
        }

        if (_current is null || _position >= _currentEnd)
        {
            _current?.Dispose();
            _current = null;
            _chunk = Math.Min(_chunk * 2, MaxChunk);
            var end = Math.Min(length, _position + _chunk);
            _current = await openRange(_position, end - _position, cancellationToken);
            _currentEnd = end;
        }

        var read = await _current.ReadAsync(buffer[..(int)Math.Min(buffer.Length, _currentEnd - _position)], cancellationToken);
        if (read == 0)
        {
            throw new IOException($"the store's answer ended at byte {_position} of {length}");
        }

        _position += read;
        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override void Flush()
    {
    }

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _current?.Dispose();
            _current = null;
        }

        base.Dispose(disposing);
    }
}
