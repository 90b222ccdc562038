#pragma once
// Baseline and responsible images of the same seed and noise: side by side, or overlaid with a wipe
// slider; a difference toggle shows where they differ (amplified |baseline - responsible|). A batch
// is shown as a grid on each side. During sampling it shows the live latent preview. Zoom (Ctrl +
// wheel, the zoom box, double-click to fit) acts on both sides at once, so the same region is
// compared; a zoomed view pans by dragging.
#include <QImage>
#include <QList>
#include <QWidget>

class QCheckBox;
class QComboBox;
class QSlider;

namespace respo::ui {

class ComparisonCanvas;

class ComparisonView : public QWidget {
  Q_OBJECT
 public:
  enum class Mode { SideBySide, Wipe };

  explicit ComparisonView(QWidget* parent = nullptr);

  void setImages(const QList<QImage>& baseline, const QList<QImage>& responsible);
  // A live preview of the side being computed (the other side keeps what it shows).
  void setPreview(const QImage& preview, bool responsibleSide);
  void clear();

  QImage baseline() const;     // the grid of the batch, as shown
  QImage responsible() const;
  QImage difference() const;   // amplified |baseline - responsible|
  void setMode(Mode mode);
  Mode mode() const;
  void setDifferenceShown(bool shown);

  // 0 = fit the view; otherwise screen pixels per image pixel (1 = 100%).
  void setZoom(double zoom);
  double zoom() const;

  static QImage grid(const QList<QImage>& images);
  // One picture for sharing a comparison: a title (prompt and settings), then per image of the batch
  // its baseline and responsible side, enlarged to a readable size, with a caption under each pair.
  static QImage comparisonSheet(const QList<QImage>& baseline, const QList<QImage>& responsible,
                                const QString& title, const QStringList& captions = {});
  static QImage differenceImage(const QImage& a, const QImage& b);

 private:
  ComparisonCanvas* canvas_ = nullptr;
  QComboBox* mode_ = nullptr;
  QSlider* wipe_ = nullptr;
  QCheckBox* difference_ = nullptr;
  QComboBox* zoom_ = nullptr;
};

}  // namespace respo::ui
