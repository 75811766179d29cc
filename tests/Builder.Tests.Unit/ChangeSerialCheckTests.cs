using Builder.Data;

namespace Builder.Tests.Unit;

/// <summary>
/// The decision a web process makes every poll of the change serial: heard everything, wait one poll for a notification
/// in flight, or notifications were lost (every cache forgets everything, the listener connects again).
/// </summary>
public sealed class ChangeSerialCheckTests
{
    [Fact]
    public void A_database_serial_equal_to_what_was_heard_is_up_to_date()
    {
        var check = Started(7);

        Assert.Equal(ChangeSerialVerdict.UpToDate, check.Check(7));
        Assert.Equal(ChangeSerialVerdict.UpToDate, check.Check(7));
        Assert.Equal(7, check.Heard);
    }

    [Fact]
    public void Ahead_once_waits_for_the_notification_in_flight_and_its_arrival_settles_it()
    {
        var check = Started(7);

        Assert.Equal(ChangeSerialVerdict.InFlight, check.Check(8));
        check.Hear(8);

        Assert.Equal(ChangeSerialVerdict.UpToDate, check.Check(8));
        Assert.Equal(8, check.Heard);
    }

    [Fact]
    public void Ahead_at_two_polls_in_a_row_means_notifications_were_lost_and_the_count_starts_again_from_the_database()
    {
        var check = Started(7);

        Assert.Equal(ChangeSerialVerdict.InFlight, check.Check(9));
        Assert.Equal(ChangeSerialVerdict.Lost, check.Check(9));

        Assert.Equal(9, check.Heard);
        Assert.Equal(ChangeSerialVerdict.UpToDate, check.Check(9));
        check.Hear(10);
        Assert.Equal(ChangeSerialVerdict.UpToDate, check.Check(10));
    }

    [Fact]
    public void Busy_traffic_is_not_a_loss_when_each_poll_finds_the_numbers_of_the_previous_one_heard()
    {
        var check = Started(0);

        Assert.Equal(ChangeSerialVerdict.InFlight, check.Check(2));
        check.Hear(1);
        check.Hear(2);
        check.Hear(3);
        Assert.Equal(ChangeSerialVerdict.InFlight, check.Check(5));
        check.Hear(4);
        check.Hear(5);
        Assert.Equal(ChangeSerialVerdict.InFlight, check.Check(6));
        check.Hear(6);
        Assert.Equal(ChangeSerialVerdict.UpToDate, check.Check(6));
    }

    [Fact]
    public void Numbers_heard_out_of_order_count_once_the_gap_before_them_is_filled()
    {
        var check = Started(4);

        check.Hear(6);
        check.Hear(7);
        Assert.Equal(4, check.Heard);
        check.Hear(5);

        Assert.Equal(7, check.Heard);
        Assert.Equal(ChangeSerialVerdict.UpToDate, check.Check(7));
    }

    [Fact]
    public void One_missing_number_among_heard_ones_is_a_loss_at_the_next_poll()
    {
        // Serial 5 was taken but its notification never came (its statement failed, or the connection dropped it).
        var check = Started(4);
        check.Hear(6);

        Assert.Equal(ChangeSerialVerdict.InFlight, check.Check(6));
        Assert.Equal(ChangeSerialVerdict.Lost, check.Check(6));
        Assert.Equal(6, check.Heard);
    }

    [Fact]
    public void A_database_serial_read_before_a_notification_that_arrived_meanwhile_is_not_a_loss()
    {
        var check = Started(4);
        check.Hear(5);

        Assert.Equal(ChangeSerialVerdict.UpToDate, check.Check(4));
        Assert.Equal(ChangeSerialVerdict.UpToDate, check.Check(5));
    }

    [Fact]
    public void Restarting_from_a_lower_serial_after_the_database_went_back_counts_from_there()
    {
        var check = Started(100);
        check.Hear(102);
        check.Restart(50);

        Assert.Equal(50, check.Heard);
        check.Hear(51);
        Assert.Equal(ChangeSerialVerdict.UpToDate, check.Check(51));
        Assert.Equal(ChangeSerialVerdict.InFlight, check.Check(102));
        Assert.Equal(ChangeSerialVerdict.Lost, check.Check(102));
    }

    [Fact]
    public void A_restart_forgets_the_number_awaited_before_it()
    {
        var check = Started(3);
        Assert.Equal(ChangeSerialVerdict.InFlight, check.Check(5));

        check.Restart(5);

        Assert.Equal(ChangeSerialVerdict.UpToDate, check.Check(5));
    }

    [Theory]
    [InlineData("12|index|acme-sdk", 12L, "index", "acme-sdk")]
    [InlineData("3|access|token:7", 3L, "access", "token:7")]
    [InlineData("index|acme-sdk", null, "index", "acme-sdk")]
    [InlineData("1|*|*", 1L, "*", "*")]
    [InlineData("9|index|a|b", 9L, "index", "a|b")]
    public void A_payload_names_its_serial_topic_and_key(string payload, long? serial, string topic, string key)
    {
        Assert.True(ChangeMessage.TryParse(payload, out var message));
        Assert.Equal(new ChangeMessage(serial, topic, key), message);
    }

    [Theory]
    [InlineData("")]
    [InlineData("index")]
    [InlineData("12|index")]
    [InlineData("|index|acme")]
    public void A_payload_without_topic_and_key_is_refused(string payload)
    {
        Assert.False(ChangeMessage.TryParse(payload, out _));
    }

    private static ChangeSerialCheck Started(long serial)
    {
        var check = new ChangeSerialCheck();
        check.Restart(serial);
        return check;
    }
}
