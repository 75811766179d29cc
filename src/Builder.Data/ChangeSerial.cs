using System.Globalization;
using Npgsql;

namespace Builder.Data;

/// <summary>
/// The change serial in production: a PostgreSQL sequence every change notification takes its number from. A sequence
/// because <c>nextval</c> is not transactional (no row lock, no waiting on other writers) and its <c>last_value</c> is
/// read without locks, at once reflecting every number handed out. Created by whichever process needs it first (no
/// table of the schema: embedded SQLite mode is one process and has none).
/// </summary>
internal static class ChangeSerial
{
    public const string Sequence = "builder_change_serial";

    /// <summary>Creates the sequence when it is missing; safe when several processes do so at once.</summary>
    public static async Task EnsureAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        // CACHE 1 (the default, said explicitly): another session's last_value is then every number handed out.
        await using var command = new NpgsqlCommand($"CREATE SEQUENCE IF NOT EXISTS {Sequence} CACHE 1", connection);
        try
        {
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        catch (PostgresException ex) when (ex.SqlState is PostgresErrorCodes.UniqueViolation or PostgresErrorCodes.DuplicateTable)
        {
            // Another process created it between our check and our insert (IF NOT EXISTS does not lock): it exists.
        }
    }

    /// <summary>The last number handed out (0 before the first).</summary>
    public static async Task<long> ReadAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand($"SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM {Sequence}", connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
    }
}

/// <summary>
/// One change notification's payload: "serial|topic|key" (the serial its change took). A payload without a serial
/// ("topic|key", from a process of an older version during a rolling upgrade) still names its change.
/// </summary>
internal readonly record struct ChangeMessage(long? Serial, string Topic, string Key)
{
    public const char Separator = '|';

    public static bool TryParse(string payload, out ChangeMessage message)
    {
        message = default;
        long? serial = null;
        var rest = payload;
        var first = payload.IndexOf(Separator, StringComparison.Ordinal);
        if (first > 0 && long.TryParse(payload.AsSpan(0, first), NumberStyles.None, CultureInfo.InvariantCulture, out var number))
        {
            serial = number;
            rest = payload[(first + 1)..];
        }

        var separator = rest.IndexOf(Separator, StringComparison.Ordinal);
        if (separator <= 0)
        {
            return false;
        }

        message = new ChangeMessage(serial, rest[..separator], rest[(separator + 1)..]);
        return true;
    }
}

/// <summary>What a poll of the change serial says about the notifications this process received.</summary>
internal enum ChangeSerialVerdict
{
    /// <summary>Every change the database numbered was heard.</summary>
    UpToDate,

    /// <summary>The database numbered changes not heard yet: their notifications may be on their way (one poll of grace).</summary>
    InFlight,

    /// <summary>A change not heard at the previous poll is still not heard: notifications were lost.</summary>
    Lost,
}

/// <summary>
/// Decides, from the change serial, whether this process missed change notifications. Each notification carries the
/// serial its change took, and the process counts which it heard; every poll reads the database's serial. Numbers the
/// database handed out but the process has not heard may be in flight (a notification is sent by the same statement
/// that takes its number, so it is at most milliseconds behind); any still missing at the next poll were lost, so a
/// lost notification costs at most two polls of freshness. A number taken whose notification was never sent (its
/// statement failed), or numbers a crash skipped, count as lost too: the cost is one needless cache flush, never a
/// stale page. Thread-safe: notifications and polls arrive on different threads.
/// </summary>
internal sealed class ChangeSerialCheck
{
    private readonly Lock _gate = new();
    private readonly SortedSet<long> _early = [];
    private long _heard;
    private long? _awaited;

    /// <summary>Every serial up to this one was heard (or accounted for by <see cref="Restart"/>).</summary>
    public long Heard
    {
        get
        {
            lock (_gate)
            {
                return _heard;
            }
        }
    }

    /// <summary>
    /// Every change up to <paramref name="serial"/> is accounted for: the caller made every cache forget everything,
    /// after it started listening (so later numbers arrive as notifications).
    /// </summary>
    public void Restart(long serial)
    {
        lock (_gate)
        {
            RestartLocked(serial);
        }
    }

    /// <summary>A notification with <paramref name="serial"/> arrived (in any order: numbers are taken before commit order).</summary>
    public void Hear(long serial)
    {
        lock (_gate)
        {
            if (serial <= _heard)
            {
                return;
            }

            _early.Add(serial);
            Advance();
        }
    }

    /// <summary>Compares the database's serial with what was heard, remembering it for the next poll's grace.</summary>
    public ChangeSerialVerdict Check(long databaseSerial)
    {
        lock (_gate)
        {
            // A number awaited at the previous poll never arrived: start again from the database's serial.
            if (_awaited is { } awaited && _heard < awaited)
            {
                RestartLocked(databaseSerial);
                return ChangeSerialVerdict.Lost;
            }

            // Behind what was heard: read before a notification that arrived meanwhile (or the database went back, to a
            // backup or a replica behind it, whose connection loss restarts the listener and this count).
            if (databaseSerial <= _heard)
            {
                _awaited = null;
                return ChangeSerialVerdict.UpToDate;
            }

            _awaited = databaseSerial;
            return ChangeSerialVerdict.InFlight;
        }
    }

    private void RestartLocked(long serial)
    {
        if (serial < _heard)
        {
            _early.Clear(); // the serial went back: what was heard above it numbered other changes
        }

        _heard = serial;
        _awaited = null;
        _early.RemoveWhere(s => s <= serial);
        Advance();
    }

    private void Advance()
    {
        while (_early.Count > 0 && _early.Min == _heard + 1)
        {
            _early.Remove(_heard + 1);
            _heard++;
        }
    }
}
