-- Wrong check-in codes per staff member, hall and day (appointment::code_tries).
-- A code is six digits: a desk that could try them without end would check in
-- bookings whose holder never came. The statement that counts a try also
-- refuses it beyond the limits, so parallel guesses cannot outrun them; a
-- right code gives its try back.
CREATE TABLE checkin_code_misses (
  actor_id TEXT NOT NULL,
  hall_id TEXT NOT NULL,
  day TEXT NOT NULL,
  misses INTEGER NOT NULL CHECK (misses >= 0),
  PRIMARY KEY (actor_id, hall_id, day)
);
CREATE INDEX checkin_code_misses_by_hall ON checkin_code_misses (hall_id, day);
