package access

import (
	"time"

	"github.com/wardenhq/warden/internal/resource"
)

// NextAudit is the date of a list's next periodic review after a review made at from: Frequency
// months later, on the recurrence's day of month ("1" when unset, "15", or "last"), at midnight UTC.
func NextAudit(r resource.Recurrence, from time.Time) time.Time {
	from = from.UTC()
	months := r.Frequency
	if months <= 0 {
		months = 1
	}
	first := time.Date(from.Year(), from.Month()+time.Month(months), 1, 0, 0, 0, 0, time.UTC)
	switch r.DayOfMonth {
	case "15":
		return first.AddDate(0, 0, 14)
	case "last":
		return first.AddDate(0, 1, -1)
	default:
		return first
	}
}

// ReviewDue reports whether a list's periodic review is due at now.
func ReviewDue(l *resource.AccessListSpec, now time.Time) bool {
	return l.Audit != nil && l.Audit.NextAuditDate != nil && !now.Before(*l.Audit.NextAuditDate)
}
