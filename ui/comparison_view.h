#pragma once
// Baseline and responsible images of the same seed and noise: side by side, or overlaid with a wipe
// slider; a difference toggle shows where they differ (amplified |baseline - responsible|). A batch
// is shown as a grid on each side. During sampling it shows the live latent preview.
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

  static QImage grid(const QList<QImage>& images);
  static QImage differenceImage(const QImage& a, const QImage& b);

 private:
  ComparisonCanvas* canvas_ = nullptr;
  QComboBox* mode_ = nullptr;
  QSlider* wipe_ = nullptr;
  QCheckBox* difference_ = nullptr;
};

}  // namespace respo::ui
