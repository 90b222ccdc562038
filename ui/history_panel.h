#pragma once
// The gallery: a thumbnail of every generation of this session (newest first) and of the pictures
// already in the output folder, plus the jobs still waiting in the queue. Activating a picture hands
// its entry to the window, which restores its parameters and shows its images; a queued job can be
// taken out of the queue from its context menu.
#include <QImage>
#include <QList>
#include <QString>
#include <QWidget>

class QListWidget;
class QListWidgetItem;

namespace respo::ui {

struct HistoryEntry {
  QString parameters;              // the responsible images' "parameters" text
  QString file;                    // the saved responsible PNG ("" when not saved)
  QList<QImage> baseline, responsible;  // empty for pictures listed from disk until opened
  QString error;                   // why the file could not be read (readFile)
};

class HistoryPanel : public QWidget {
  Q_OBJECT
 public:
  explicit HistoryPanel(QWidget* parent = nullptr);

  void addEntry(const HistoryEntry& entry);  // newest first
  // Lists the PNGs with generation parameters in `folder` (not their "-baseline" companions), newest
  // first after this session's entries; files already listed are skipped. Returns how many it added.
  int addFolder(const QString& folder, int limit = 500);
  int entryCount() const;
  // The entry in row `row` of the finished pictures (0 = newest), its images read from disk if needed.
  HistoryEntry entry(int row) const;
  QListWidget* list() const { return list_; }

  void addQueued(int jobId, const QString& prompt);
  void setRunning(int jobId);
  void removeJob(int jobId);  // started-and-ended or taken out of the queue
  int queuedCount() const;
  QList<int> jobIds() const;  // queued and running jobs, in the order shown

  // Reads a saved picture: its parameters and images (and the "-baseline" companion beside it).
  // Returns an entry with empty parameters when the file is no PNG with generation parameters.
  static HistoryEntry readFile(const QString& path);
  static QString baselineCompanion(const QString& path);

 Q_SIGNALS:
  void entryActivated(const respo::ui::HistoryEntry& entry);
  // The user asked to take a job out of the queue (or to cancel it, when it is running).
  void removeQueuedRequested(int jobId);

 private:
  QListWidgetItem* jobItem(int jobId) const;
  static QListWidgetItem* pictureItem(const HistoryEntry& entry, const QImage& thumbnailSource);
  static HistoryEntry entryOf(const QListWidgetItem* item);
  void showContextMenu(const QPoint& position);

  QListWidget* list_ = nullptr;
};

}  // namespace respo::ui

Q_DECLARE_METATYPE(respo::ui::HistoryEntry)
